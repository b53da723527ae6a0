import { envInt } from '@eb/core';

/**
 * Counts the long-polls held open, per owner and in all. A long-poll holds a connection (through every
 * proxy in front) for up to a minute: without a cap, one client could hold them all and everyone else's
 * requests would queue behind it.
 */
export class LongPolls {
  private readonly byOwner = new Map<string, number>();
  private total = 0;

  constructor(
    readonly perOwner = envInt('EB_LONG_POLLS_PER_OWNER', 16),
    readonly max = envInt('EB_LONG_POLLS_MAX', 1000),
  ) {}

  /** `owner-full`: this owner holds its share (answer 429); `full`: the process does (answer at once). */
  enter(owner: string): 'ok' | 'owner-full' | 'full' {
    const held = this.byOwner.get(owner) ?? 0;
    if (held >= this.perOwner) return 'owner-full';
    if (this.total >= this.max) return 'full';
    this.byOwner.set(owner, held + 1);
    this.total++;
    return 'ok';
  }

  leave(owner: string): void {
    const held = (this.byOwner.get(owner) ?? 1) - 1;
    if (held <= 0) this.byOwner.delete(owner);
    else this.byOwner.set(owner, held);
    this.total = Math.max(0, this.total - 1);
  }

  get open(): number {
    return this.total;
  }
}
