import { platformAbilities, type Db, type DeclaredPlatform } from '@eb/db';

/** A platform's abilities as its workers declared them in its row, with its name and capacity. */
export type NamedAbilities = DeclaredPlatform & { name: string };

export interface AbilitiesReader {
  /** What `name` can do and has, or undefined while no worker of it has declared it. */
  of(name: string): Promise<NamedAbilities | undefined>;
  /** The platforms (of this broker's database) that can run or stage `kind`. */
  ableTo(kind: string): Promise<string[]>;
}

/**
 * Reads platforms' abilities from PostgreSQL, where each worker declares them at start. Kept for
 * `ttlMs` so a burst of requests reads them once; a platform not declared yet is asked again each time.
 */
export function abilitiesReader(db: Db, ttlMs = 5000): AbilitiesReader {
  let cached: { at: number; all: Map<string, DeclaredPlatform> } | undefined;
  const all = async (name?: string) => {
    if (!cached || Date.now() - cached.at > ttlMs || (name !== undefined && !cached.all.has(name))) {
      cached = { at: Date.now(), all: await platformAbilities(db) };
    }
    return cached.all;
  };
  return {
    async of(name) {
      const a = (await all(name)).get(name);
      return a && { ...a, name };
    },
    async ableTo(kind) {
      return [...(await all()).entries()]
        .filter(([, a]) => a.executableKinds.includes(kind) || a.dataKinds.includes(kind))
        .map(([name]) => name)
        .sort();
    },
  };
}
