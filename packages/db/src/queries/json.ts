import { storableText } from '@eb/schema';

/** JSON for a jsonb column, whatever characters a platform or a program handed over. */
export const storableJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' ? storableText(x) : x));
