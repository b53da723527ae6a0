import { HttpProblem } from './problem.js';

/**
 * Bounds on what a parsed request body may look like. Requests are small documents; anything deeper,
 * larger or stranger than this is an attack or a mistake, and is refused before any work is done.
 */
export interface BodyLimits {
  /** Nesting depth of objects and arrays. */
  maxDepth: number;
  /** Objects, arrays and scalars in total. */
  maxNodes: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = { maxDepth: 32, maxNodes: 20_000 };

// A NUL or an unpaired surrogate cannot be stored by PostgreSQL (text or jsonb) nor sent on safely.
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const bad = (detail: string, pointer: string) =>
  new HttpProblem(400, 'Bad Request', detail, { errors: [{ pointer: pointer || '/', message: detail }] });

function checkString(s: string, pointer: string, what: string): void {
  if (UNSTORABLE.test(s)) throw bad(`The ${what} at ${pointer || '/'} contains a NUL character or an unpaired surrogate.`, pointer);
}

/**
 * Walks a parsed body once, iteratively (no recursion to overflow), and throws a 400 problem for:
 * a value reached twice (a YAML alias or anchor reuse, which can expand exponentially), nesting
 * deeper than allowed, too many nodes, or strings (keys included) that cannot be stored.
 */
export function checkBodyShape(body: unknown, limits: BodyLimits = DEFAULT_BODY_LIMITS): void {
  const seen = new Set<object>();
  const stack: { value: unknown; depth: number; pointer: string }[] = [{ value: body, depth: 0, pointer: '' }];
  let nodes = 0;
  while (stack.length) {
    const { value, depth, pointer } = stack.pop()!;
    if (++nodes > limits.maxNodes) throw bad(`The body has more than ${limits.maxNodes} values.`, '');
    if (typeof value === 'string') { checkString(value, pointer, 'string'); continue; }
    if (value === null || typeof value !== 'object') continue;
    if (seen.has(value)) throw bad('The body reuses a value (a YAML alias); aliases are not accepted.', pointer);
    seen.add(value);
    if (depth >= limits.maxDepth) throw bad(`The body is nested deeper than ${limits.maxDepth} levels.`, pointer);
    const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    for (const [key, child] of entries) {
      const at = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      checkString(key, at, 'key');
      stack.push({ value: child, depth: depth + 1, pointer: at });
    }
  }
}
