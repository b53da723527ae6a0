/**
 * What a pass over an execution decides: look at it again at once (its phase changed, so the next
 * phase's action runs in the same pass), look again at a time (wait, poll), or nothing more is owed.
 */
export type Next = { readonly kind: 'again' } | { readonly kind: 'at'; readonly at: number } | { readonly kind: 'done' };

export const again: Next = { kind: 'again' };
export const done: Next = { kind: 'done' };
export const lookAt = (at: number): Next => ({ kind: 'at', at });
