import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';

export interface Range {
  min: number;
  max: number;
}

/**
 * One kind of cost and how it grows with what an offer books: per core, GiB of memory and GiB of
 * storage, each per hour of the booked interval; `perKwh` makes it follow the energy cost instead
 * (carbon: the grid's intensity).
 */
export interface CostRate {
  type: string;
  units: string;
  description?: string;
  perCoreHour?: Range;
  perMemoryGibHour?: Range;
  perStorageGibHour?: Range;
  perKwh?: Range;
}

/** A measure of what the platform delivers (a benchmark score, a throughput), whatever the offer's size. */
export interface MetricRate {
  type: string;
  units: string;
  description?: string;
  min: number;
  max: number;
}

export interface CostProfile {
  costs: CostRate[];
  metrics: MetricRate[];
}

export const CostTypes = {
  monetary: 'urn:ivoa:calycopis:cost:monetary',
  energy: 'urn:ivoa:calycopis:cost:energy',
  carbon: 'urn:ivoa:calycopis:cost:carbon',
} as const;

export const MetricTypes = {
  computePerformance: 'urn:ivoa:calycopis:metric:compute-performance',
  ioThroughput: 'urn:ivoa:calycopis:metric:io-throughput',
} as const;

/** A modest cloud-like platform: used unless EB_COST_PROFILE names a file. */
export const DEFAULT_COST_PROFILE: CostProfile = {
  costs: [
    {
      type: CostTypes.monetary, units: 'EUR', description: 'Estimated monetary cost',
      perCoreHour: { min: 0.03, max: 0.05 }, perMemoryGibHour: { min: 0.004, max: 0.006 }, perStorageGibHour: { min: 0.0001, max: 0.0002 },
    },
    {
      type: CostTypes.energy, units: 'kWh', description: 'Estimated energy use',
      perCoreHour: { min: 0.008, max: 0.015 }, perMemoryGibHour: { min: 0.0003, max: 0.0005 },
    },
    { type: CostTypes.carbon, units: 'gCO2', description: 'Estimated carbon emissions', perKwh: { min: 100, max: 300 } },
  ],
  metrics: [
    { type: MetricTypes.computePerformance, units: 'score', description: 'CPU benchmark score', min: 90, max: 110 },
    { type: MetricTypes.ioThroughput, units: 'MB/s', description: 'IO throughput', min: 200, max: 400 },
  ],
};

function range(v: unknown, where: string): Range {
  const r = v as Partial<Range> | undefined;
  if (!r || typeof r.min !== 'number' || typeof r.max !== 'number' || !(r.min >= 0) || !(r.max >= r.min)) {
    throw new Error(`${where} must be { min, max } with 0 <= min <= max`);
  }
  return { min: r.min, max: r.max };
}

/** Checks a profile as read from a file, naming what is wrong. */
export function parseCostProfile(raw: unknown, source: string): CostProfile {
  const p = raw as { costs?: unknown; metrics?: unknown } | null;
  if (!p || !Array.isArray(p.costs) || !Array.isArray(p.metrics)) throw new Error(`${source}: a cost profile has lists 'costs' and 'metrics'`);
  const costs = p.costs.map((c: Record<string, unknown>, i): CostRate => {
    const where = `${source}: costs[${i}]`;
    if (typeof c.type !== 'string' || typeof c.units !== 'string') throw new Error(`${where} needs a type and units`);
    const out: CostRate = { type: c.type, units: c.units, ...(typeof c.description === 'string' ? { description: c.description } : {}) };
    for (const key of ['perCoreHour', 'perMemoryGibHour', 'perStorageGibHour', 'perKwh'] as const) {
      if (c[key] !== undefined) out[key] = range(c[key], `${where}.${key}`);
    }
    return out;
  });
  const metrics = p.metrics.map((m: Record<string, unknown>, i): MetricRate => {
    const where = `${source}: metrics[${i}]`;
    if (typeof m.type !== 'string' || typeof m.units !== 'string') throw new Error(`${where} needs a type and units`);
    return { type: m.type, units: m.units, ...(typeof m.description === 'string' ? { description: m.description } : {}), ...range(m, where) };
  });
  return { costs, metrics };
}

/** EB_COST_PROFILE (a YAML or JSON file), or the default profile. */
export function costProfileFromEnv(): CostProfile {
  const file = process.env.EB_COST_PROFILE;
  if (!file) return DEFAULT_COST_PROFILE;
  return parseCostProfile(yaml.load(readFileSync(file, 'utf8'), { schema: yaml.JSON_SCHEMA }), file);
}
