import { describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_COST_PROFILE, costProfileFromEnv, parseCostProfile } from '../src/costs/profile.js';
import { quoteOffer } from '../src/costs/quote.js';

const H = 3_600_000;
const offer = (cores: number, memoryGib: number, storageGib: number, hours: number) =>
  ({ prepareStart: 0, availableStart: 0, releaseStart: hours * H, end: hours * H, cores, memoryGib, storageGib });

describe('cost profiles', () => {
  test('a profile file is checked, naming what is wrong', () => {
    expect(() => parseCostProfile({ costs: [] }, 'p.yaml')).toThrow(/p.yaml: a cost profile has lists/);
    expect(() => parseCostProfile({ costs: [{ type: 'x', units: 'EUR', perCoreHour: { min: 2, max: 1 } }], metrics: [] }, 'p.yaml')).toThrow(/costs\[0\]\.perCoreHour must be/);
    expect(() => parseCostProfile({ costs: [], metrics: [{ type: 'm' }] }, 'p.yaml')).toThrow(/metrics\[0\] needs a type and units/);
  });

  test('costs grow with cores, memory, storage and hours; carbon follows energy; metrics are the platform\'s', () => {
    const profile = parseCostProfile({
      costs: [
        { type: 'urn:ivoa:calycopis:cost:monetary', units: 'GBP', perCoreHour: { min: 1, max: 2 }, perMemoryGibHour: { min: 0.5, max: 0.5 }, perStorageGibHour: { min: 0.01, max: 0.01 } },
        { type: 'urn:ivoa:calycopis:cost:energy', units: 'kWh', perCoreHour: { min: 0.1, max: 0.2 } },
        { type: 'urn:ivoa:calycopis:cost:carbon', units: 'gCO2', perKwh: { min: 10, max: 20 } },
      ],
      metrics: [{ type: 'urn:ivoa:calycopis:metric:compute-performance', units: 'score', min: 250, max: 300 }],
    }, 'test');
    const q = quoteOffer(offer(2, 4, 100, 3), profile);
    expect(q.session.costs.map((c) => [c.units, c.min, c.max])).toEqual([['GBP', (2 + 2 + 1) * 3, (4 + 2 + 1) * 3], ['kWh', 0.6, 1.2], ['gCO2', 6, 24]]);
    expect(q.compute.costs.map((c) => [c.units, c.min, c.max])).toEqual([['GBP/h', 4, 6], ['kWh/h', 0.2, 0.4]]);
    expect(q.session.metrics).toEqual([expect.objectContaining({ min: 250, max: 300, units: 'score' })]);
  });

  test('EB_COST_PROFILE names a YAML file; without it, the default profile', () => {
    const file = join(tmpdir(), `costs-${randomUUID()}.yaml`);
    writeFileSync(file, 'costs:\n  - { type: "urn:ivoa:calycopis:cost:monetary", units: CHF, perCoreHour: { min: 1, max: 1 } }\nmetrics: []\n');
    try {
      process.env.EB_COST_PROFILE = file;
      expect(costProfileFromEnv()).toEqual({ costs: [{ type: 'urn:ivoa:calycopis:cost:monetary', units: 'CHF', perCoreHour: { min: 1, max: 1 } }], metrics: [] });
      delete process.env.EB_COST_PROFILE;
      expect(costProfileFromEnv()).toBe(DEFAULT_COST_PROFILE);
    } finally {
      rmSync(file, { force: true });
    }
  });

  test('the default profile quotes monetary, energy and carbon costs and compute-performance', () => {
    const q = quoteOffer(offer(1, 1, 0, 1), DEFAULT_COST_PROFILE);
    expect(q.session.costs.map((c) => c.type)).toEqual(['urn:ivoa:calycopis:cost:monetary', 'urn:ivoa:calycopis:cost:energy', 'urn:ivoa:calycopis:cost:carbon']);
    expect(q.session.metrics.map((m) => m.type)).toContain('urn:ivoa:calycopis:metric:compute-performance');
    for (const c of q.session.costs) expect(c.min).toBeLessThanOrEqual(c.max);
  });
});
