/**
 * Seeded generators of hostile request bodies: the same seed gives the same bodies, so a failure
 * found in CI can be replayed. They start from valid requests and break them in the ways an attacker
 * or a buggy client would: bytes, types, sizes, nesting, YAML aliases, unstorable characters.
 */
export type Rng = () => number;

/** mulberry32: small, fast, good enough to drive a fuzzer reproducibly. */
export function seeded(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

const nested = (depth: number, open: string, close: string, inner = '1') => open.repeat(depth) + inner + close.repeat(depth);

/** Values that have broken parsers, validators, planners and databases before. */
export function hostileValue(rng: Rng): unknown {
  const n = Math.floor(rng() * 26);
  switch (n) {
    case 0: return null;
    case 1: return -1;
    case 2: return 0;
    case 3: return 1e308;
    case 4: return Number.MAX_SAFE_INTEGER + 2;
    case 5: return 2 ** 31;
    case 6: return 'a\u0000b';
    case 7: return '\ud800';
    case 8: return 'x'.repeat(5000);
    case 9: return '../../../../etc/passwd';
    case 10: return 'P99999999999Y';
    case 11: return 'PT-1S';
    case 12: return '9999-12-31T23:59:59Z/P1D';
    case 13: return '0000-01-01T00:00:00Z/PT1S';
    case 14: return [];
    case 15: return {};
    case 16: return true;
    case 17: return JSON.parse(nested(40, '[', ']'));
    case 18: return 'file:///etc/shadow';
    case 19: return 'http://127.0.0.1:5432/';
    case 20: return '/proc/self/root';
    case 21: return '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ☃ \u202e';
    case 22: return 1.5;
    case 23: return 'sha256:' + 'f'.repeat(64);
    case 24: return Array.from({ length: 50 }, () => ({ a: 1 }));
    default: return '${jndi:ldap://x}';
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path (list of keys) to a node in a JSON value. */
function paths(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((c, i) => paths(c, [...at, i], out));
  else if (v && typeof v === 'object') Object.entries(v).forEach(([k, c]) => paths(c, [...at, k], out));
  return out;
}

/** A copy of `base` with one to three nodes replaced, removed or given an extra hostile key. */
export function mutateStructure(rng: Rng, base: Json): unknown {
  const doc = structuredClone(base) as Json;
  for (let k = 0, times = 1 + Math.floor(rng() * 3); k < times; k++) {
    const all = paths(doc).filter((p) => p.length > 0);
    if (!all.length) break;
    const p = pick(rng, all);
    let parent = doc as Record<string | number, unknown>;
    for (const key of p.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    if (!parent || typeof parent !== 'object') continue;
    const last = p[p.length - 1]!;
    const r = rng();
    if (r < 0.6) parent[last] = hostileValue(rng);
    else if (r < 0.8) delete parent[last];
    // An own property, as JSON.parse makes it (assigning `__proto__` would change the prototype instead).
    else Object.defineProperty(parent, pick(rng, ['__proto__', 'constructor', 'x\u0000', 'privileged', 'size', 'name']), { value: hostileValue(rng), enumerable: true, writable: true, configurable: true });
  }
  return doc;
}

/** The text of a valid body with bytes flipped, dropped, duplicated or inserted. */
export function mutateBytes(rng: Rng, text: string): string {
  const chars = [...text];
  for (let k = 0, times = 1 + Math.floor(rng() * 4); k < times; k++) {
    const i = Math.floor(rng() * chars.length);
    const r = rng();
    if (r < 0.25) chars.splice(i, 1);
    else if (r < 0.5) chars.splice(i, 0, pick(rng, ['{', '}', '[', ']', '"', ',', ':', '\\', '\u0000', '\\u0000', '\\ud800', '&', '*', '!!', '\n', '-']));
    else if (r < 0.75) chars.splice(i, 0, chars[i] ?? '');
    else chars[i] = String.fromCharCode(Math.floor(rng() * 0x7f));
  }
  return chars.join('');
}

/** Bodies that are hostile as a whole, whatever the request. */
export function hostileDocuments(rng: Rng): { type: string; body: string } {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) =>
    `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
  const docs = [
    { type: 'application/yaml', body: bomb },
    { type: 'application/yaml', body: 'executable: &e { kind: x, meta: *e }' },
    { type: 'application/yaml', body: `x: ${nested(5000, '[', ']')}` },
    { type: 'application/json', body: nested(100_000, '[', ']') },
    { type: 'application/json', body: nested(60, '{"a":', '}') },
    { type: 'application/json', body: '{"executable":{"kind":"\\u0000"}}' },
    { type: 'application/json', body: '{"executable":"\\ud800"}' },
    { type: 'application/json', body: '"just a string"' },
    { type: 'application/json', body: '[1,2,3]' },
    { type: 'application/json', body: 'null' },
    { type: 'application/yaml', body: '!!js/function "function(){}"' },
    { type: 'application/yaml', body: '? [1,2]\n: x' },
    { type: 'application/xml', body: '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>' },
    { type: 'text/plain', body: 'hello' },
    { type: 'application/json; charset=utf-16', body: '{}' },
    { type: 'application/json', body: JSON.stringify({ executable: { kind: 'x' }, pad: 'y'.repeat(300 * 1024) }) },
  ];
  return pick(rng, docs);
}
