import type { ExecutionRequest, MessageItem } from '@eb/schema';
import type { PlannedOffer } from '../offers/plan.js';
import type { CostProfile } from './profile.js';
import { quoteOffer, type OfferQuote } from './quote.js';
import { meets, readConstraints, refusals, unsupported } from './constraints.js';

export type Quoted =
  | { ok: true; offers: { planned: PlannedOffer; quote: OfferQuote }[] }
  | { ok: false; messages: MessageItem[] };

/**
 * Quotes each planned offer under the platform's profile and keeps those within the request's cost
 * ceilings and metric floors. None left (or a constraint the platform cannot quote): NO, saying why.
 */
export function quoteAndFilter(planned: PlannedOffer[], req: ExecutionRequest, profile: CostProfile): Quoted {
  const quoted = planned.map((p) => ({ planned: p, quote: quoteOffer(p, profile) }));
  const constraints = readConstraints(req);
  if (constraints.length === 0 || quoted.length === 0) return { ok: true, offers: quoted };
  const notQuoted = unsupported(constraints, quoted[0]!.quote);
  if (notQuoted.length) return { ok: false, messages: notQuoted };
  const kept = quoted.filter((o) => constraints.every((c) => meets(o.quote, c)));
  return kept.length ? { ok: true, offers: kept } : { ok: false, messages: refusals(constraints, quoted.map((o) => o.quote)) };
}
