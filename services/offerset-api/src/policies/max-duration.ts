import { formatDuration } from '@eb/schema';
import type { RequestTree } from '../offers/request-tree.js';
import { refusal, type Policy } from './policy.js';

export class MaxDurationPolicy implements Policy {
  readonly name = 'max-duration';

  constructor(private readonly maxMs: number) {}

  async check(tree: RequestTree) {
    if (tree.durationMs <= this.maxMs) return [];
    return [refusal(this.name, 'the duration {duration} is longer than the {max} allowed', {
      duration: formatDuration(tree.durationMs), max: formatDuration(this.maxMs),
    })];
  }
}
