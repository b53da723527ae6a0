import type { PlannedOffer } from '../offers/plan.js';
import type { CostProfile, CostRate, Range } from './profile.js';

const COST_KIND = 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/costs/simple-minmax-float-cost.yaml';
const METRIC_KIND = 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/metrics/simple-minmax-float-metric.yaml';
const H = 3_600_000;

/** A quoted cost or metric, as the spec's SimpleMinMaxFloatCost/Metric (plus the units it is in). */
export interface QuoteItem {
  kind: string;
  type: string;
  description?: string;
  units: string;
  min: number;
  max: number;
}

export interface OfferQuote {
  /** For the whole offer over its booked interval. */
  session: { costs: QuoteItem[]; metrics: QuoteItem[] };
  /** The compute's own rate per hour, and what it delivers. */
  compute: { costs: QuoteItem[]; metrics: QuoteItem[] };
}

// Six significant decimals are more than any price list has.
const round = (n: number) => Math.round(n * 1e6) / 1e6;

function scaled(rate: CostRate, amounts: { cores: number; memoryGib: number; storageGib: number }, hours: number): Range {
  const part = (r: Range | undefined, n: number, end: 'min' | 'max') => (r ? r[end] * n : 0);
  const at = (end: 'min' | 'max') => (part(rate.perCoreHour, amounts.cores, end) + part(rate.perMemoryGibHour, amounts.memoryGib, end)
    + part(rate.perStorageGibHour, amounts.storageGib, end)) * hours;
  return { min: at('min'), max: at('max') };
}

function item(kind: string, rate: { type: string; units: string; description?: string }, r: Range, units = rate.units): QuoteItem {
  return { kind, type: rate.type, ...(rate.description ? { description: rate.description } : {}), units, min: round(r.min), max: round(r.max) };
}

/**
 * What an offer costs and delivers under a profile. Costs cover the whole booked interval (preparing,
 * available, releasing): the low end at the profile's low rates, the high end at its high rates. A cost
 * with `perKwh` follows the energy cost. The compute quotes its own cores and memory per hour.
 */
export function quoteOffer(p: PlannedOffer, profile: CostProfile): OfferQuote {
  const hours = (p.end - p.prepareStart) / H;
  const energy = profile.costs.find((c) => !c.perKwh && c.type.endsWith(':energy'));
  const energyUse = energy ? scaled(energy, p, hours) : { min: 0, max: 0 };
  const sessionCosts = profile.costs.map((c) => {
    const r = c.perKwh ? { min: c.perKwh.min * energyUse.min, max: c.perKwh.max * energyUse.max } : scaled(c, p, hours);
    return item(COST_KIND, c, r);
  });
  const computeCosts = profile.costs
    .filter((c) => !c.perKwh && (c.perCoreHour || c.perMemoryGibHour))
    .map((c) => item(COST_KIND, { ...c, description: `${c.description ?? c.type} of the compute, per hour` }, scaled(c, { ...p, storageGib: 0 }, 1), `${c.units}/h`));
  const metrics = profile.metrics.map((m) => item(METRIC_KIND, m, m));
  return { session: { costs: sessionCosts, metrics }, compute: { costs: computeCosts, metrics } };
}
