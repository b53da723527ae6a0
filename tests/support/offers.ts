import { randomUUID } from 'node:crypto';
import { Kinds } from '@eb/schema';
import { insertOfferSets, planAndInsertOfferSet, type Db, type NewOffer, type NewOfferSet } from '@eb/db';

export interface OfferSpec {
  startInMs?: number;
  prepareMs?: number;
  durationMs?: number;
  releaseMs?: number;
  cores?: number;
  memoryGib?: number;
  interactive?: boolean;
  /** May start this long after the offer is made at the earliest, if capacity frees up; absent keeps the booked start. */
  earliestInMs?: number;
  environment?: Record<string, string>;
  /** The executable's spec, replacing the default (a placeholder image). */
  executable?: Record<string, unknown>;
  /** The executable's kind (a DockerContainer unless given). */
  executableKind?: string;
  /** The output streams the platform gives back (default: stdout and stderr). */
  outputs?: string[];
  /** Storage, data and volume components beside the executable and compute. */
  extra?: { uuid?: string; role: 'storage' | 'data' | 'volume'; name: string; kind: string; spec: Record<string, unknown> }[];
}

function offerOf(platform: string, s: OfferSpec, i: number, now: number, ttlMs: number): NewOffer {
  const prepareStart = now + (s.startInMs ?? 0);
  const prepareMs = s.prepareMs ?? 1000;
  const durationMs = s.durationMs ?? 60_000;
  return {
    uuid: randomUUID(), name: `offer-${i}`, platform, expires: new Date(now + ttlMs),
    prepareStart: new Date(prepareStart), prepareMs,
    availableStart: new Date(prepareStart + prepareMs), availableMs: durationMs,
    releaseStart: new Date(prepareStart + prepareMs + durationMs), releaseMs: s.releaseMs ?? 1000,
    cores: s.cores ?? 1, memoryGib: s.memoryGib ?? 1, storageGib: 0, interactive: s.interactive ?? false,
    earliestStart: s.earliestInMs === undefined ? null : new Date(now + s.earliestInMs),
    outputs: s.outputs ?? ['stdout', 'stderr'],
    components: [
      { uuid: randomUUID(), role: 'executable', position: 0, name: 'exe', kind: s.executableKind ?? Kinds.dockerContainer,
        spec: s.executable ?? { image: { locations: ['test/image'], digest: 'sha256:00' }, environment: s.environment ?? {} } },
      { uuid: randomUUID(), role: 'compute', position: 0, name: 'compute', kind: Kinds.simpleCompute, spec: {} },
      ...(s.extra ?? []).map((x, position) => ({ uuid: randomUUID(), position, ...x })),
    ],
  };
}

const setOf = (offers: NewOffer[], now: number, ttlMs: number, owner: string): NewOfferSet =>
  ({ uuid: randomUUID(), owner, name: null, expires: new Date(now + ttlMs), result: 'YES', request: {}, messages: [], offers });

/** Stores an offer set as the offer-set API would, for tests of what comes after the offer. */
export async function storeOfferSet(db: Db, platform: string, specs: OfferSpec[], ttlMs = 300_000, owner = 'anonymous'): Promise<NewOfferSet> {
  return planAndInsertOfferSet(db, platform, [86_400_000], (ctx) => {
    const now = ctx?.now.getTime() ?? Date.now();
    return setOf(specs.map((s, i) => offerOf(platform, s, i, now, ttlMs)), now, ttlMs, owner);
  });
}

/** Stores each spec as an offer set of its own (each one acceptable on its own), in one statement. */
export async function storeSeparateOffers(db: Db, platform: string, specs: OfferSpec[], ttlMs = 300_000, owner = 'anonymous'): Promise<NewOfferSet[]> {
  const now = Date.now();
  const sets = specs.map((s) => setOf([offerOf(platform, s, 0, now, ttlMs)], now, ttlMs, owner));
  await insertOfferSets(db, sets);
  return sets;
}
