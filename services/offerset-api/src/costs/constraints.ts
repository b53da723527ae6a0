import { message, type ExecutionRequest, type MessageItem } from '@eb/schema';
import type { OfferQuote, QuoteItem } from './quote.js';

/** A request's limit on a cost (a ceiling: `max`) or on a metric (a floor: `min`), for the offer or its compute. */
export interface Constraint {
  on: 'session' | 'compute';
  what: 'cost' | 'metric';
  type: string;
  limit: number;
  path: string;
}

type Item = { type?: unknown; min?: unknown; max?: unknown };

function from(list: unknown, on: Constraint['on'], what: Constraint['what'], path: string): Constraint[] {
  if (!Array.isArray(list)) return [];
  return (list as Item[]).flatMap((c, i) => {
    const limit = what === 'cost' ? c.max : c.min;
    return typeof c.type === 'string' && typeof limit === 'number' ? [{ on, what, type: c.type, limit, path: `${path}[${i}]` }] : [];
  });
}

/** Cost ceilings and metric floors in a request (other bounds say nothing a quote could fail). */
export function readConstraints(req: ExecutionRequest): Constraint[] {
  const compute = req.compute as { costs?: unknown; metrics?: unknown } | undefined;
  return [
    ...from(req.costs, 'session', 'cost', 'costs'),
    ...from(req.metrics, 'session', 'metric', 'metrics'),
    ...from(compute?.costs, 'compute', 'cost', 'compute.costs'),
    ...from(compute?.metrics, 'compute', 'metric', 'compute.metrics'),
  ];
}

const itemsOf = (q: OfferQuote, c: Constraint): QuoteItem[] => (c.what === 'cost' ? q[c.on].costs : q[c.on].metrics);

/** Constraints on something the platform does not quote cannot be checked, so cannot be met. */
export function unsupported(constraints: Constraint[], sample: OfferQuote): MessageItem[] {
  return constraints
    .filter((c) => !itemsOf(sample, c).some((i) => i.type === c.type))
    .map((c) => message('urn:not-supported', 'ERROR', 'The {what} type [{type}] at [{path}] is not quoted by this platform', { what: c.what, type: c.type, path: c.path }));
}

/** A quote meets a ceiling when even its high end is within it, a floor when even its low end reaches it. */
export function meets(q: OfferQuote, c: Constraint): boolean {
  const i = itemsOf(q, c).find((x) => x.type === c.type);
  if (!i) return false;
  return c.what === 'cost' ? i.max <= c.limit : i.min >= c.limit;
}

/** Why no offer is left: each constraint some offer failed, with the best that was quoted for it. */
export function refusals(constraints: Constraint[], quotes: OfferQuote[]): MessageItem[] {
  return constraints.filter((c) => quotes.some((q) => !meets(q, c))).map((c) => {
    const items = quotes.map((q) => itemsOf(q, c).find((x) => x.type === c.type)!);
    const best = c.what === 'cost' ? Math.min(...items.map((i) => i.max)) : Math.max(...items.map((i) => i.min));
    return message(c.what === 'cost' ? 'urn:cost-limit' : 'urn:metric-limit', 'ERROR',
      'No offer meets the {what} constraint [{type} {bound} {limit}] at [{path}]: the best quote is {best} {units}', {
        what: c.what, type: c.type, bound: c.what === 'cost' ? 'max' : 'min', limit: c.limit, path: c.path, best, units: items[0]!.units,
      });
  });
}
