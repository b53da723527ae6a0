import { Kinds, type DockerContainer } from '@eb/schema';
import type { RequestTree } from '../offers/request-tree.js';
import { refusal, type Policy } from './policy.js';

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/**
 * Only images from allowed places run: an entry is a digest (`sha256:...`, matched exactly) or a
 * pattern for image locations (`registry/namespace/*`, `*` matching anything). An image passes when its
 * digest is listed, or when every one of its locations matches a pattern.
 */
export class ImageAllowlistPolicy implements Policy {
  readonly name = 'image-allowlist';
  private readonly digests: Set<string>;
  private readonly patterns: RegExp[];

  constructor(entries: string[]) {
    this.digests = new Set(entries.filter((e) => e.startsWith('sha256:')));
    this.patterns = entries.filter((e) => !e.startsWith('sha256:')).map(globToRegExp);
  }

  async check(tree: RequestTree) {
    const exe = tree.executable;
    if (!exe || exe.kind !== Kinds.dockerContainer) return [];
    const image = (exe as DockerContainer).image ?? {};
    if (image.digest && this.digests.has(image.digest)) return [];
    const locations = image.locations ?? [];
    if (locations.length && locations.every((l) => this.patterns.some((p) => p.test(l)))) return [];
    return [refusal(this.name, 'the image [{image}] is not on the allowed list', { image: locations[0] ?? image.digest ?? 'none' })];
  }
}
