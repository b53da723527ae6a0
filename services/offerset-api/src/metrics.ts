import type { Counter, Histogram } from 'prom-client';
import type { Metrics } from '@eb/http-kit';

export interface OfferMetrics {
  offerSets: Counter<string>;
  offers: Counter<string>;
  accepted: Counter<string>;
  planSeconds: Histogram<string>;
  planConflicts: Counter<string>;
}

export function offerMetrics(m: Metrics): OfferMetrics {
  return {
    offerSets: m.counter('eb_offersets_total', 'Offer sets answered, by result', ['result']),
    offers: m.counter('eb_offers_made_total', 'Offers made'),
    accepted: m.counter('eb_offers_accepted_total', 'Offers accepted through /direct'),
    planSeconds: m.histogram('eb_offer_planning_seconds', 'Time to read the calendar, plan and store an offer set (every attempt)'),
    planConflicts: m.counter('eb_offer_plan_conflicts_total', 'Offer sets planned again because another planner took the same capacity first'),
  };
}
