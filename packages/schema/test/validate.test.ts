import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { Kinds, validateExecutionRequest, validateUpdate, parseDuration, parseInterval, formatDuration } from '../src/index.js';

import { fileURLToPath } from 'node:url';

// Copies of shared/reference/examples/constructed-1.0.7 (requests valid against the upstream spec).
const refDir = fileURLToPath(new URL('../../../../tests/fixtures', import.meta.url));
const load = (name: string) => JSON.parse(readFileSync(`${refDir}/${name}`, 'utf8')) as Record<string, any>;

describe('ExecutionRequest validation', () => {
  test('accepts every upstream 1.0.7 example request', () => {
    for (const f of readdirSync(refDir).filter((n) => n.startsWith('execution-request-'))) {
      const r = validateExecutionRequest(load(f));
      expect({ f, ok: r.ok, errors: r.ok ? [] : r.errors }).toEqual({ f, ok: true, errors: [] });
    }
  });

  test('checks the concrete subclass chosen by kind, not only the abstract base', () => {
    const r = validateExecutionRequest({
      executable: { kind: Kinds.dockerContainer, image: { locations: 'not-an-array' } },
      compute: { kind: Kinds.simpleCompute, cores: { min: 'two' } },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const pointers = r.errors.map((e) => e.pointer);
    expect(pointers).toContain('/executable/image/locations');
    expect(pointers).toContain('/compute/cores/min');
  });

  test('refuses an unknown kind, naming the field', () => {
    const r = validateExecutionRequest({ executable: { kind: 'https://example.org/kinds/nonsense' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.pointer).toBe('/executable/kind');
  });

  test('maps the older EB types URIs to the 1.0.7 kinds', () => {
    const body = {
      executable: { kind: 'https://www.purl.org/ivoa.net/EB/schema/v1.0/types/executable/jupyter-notebook-1.0', location: 'x' },
      compute: { kind: 'https://www.purl.org/ivoa.net/EB/schema/v1.0/types/compute/simple-compute-resource-1.0', cores: { min: 1 } },
    };
    const r = validateExecutionRequest(body);
    expect(r.ok).toBe(true);
    expect(body.executable.kind).toBe(Kinds.jupyterNotebook);
    expect(body.compute.kind).toBe(Kinds.simpleCompute);
  });

  test('refuses a bad ISO 8601 duration in the schedule', () => {
    const r = validateExecutionRequest({ schedule: { requested: { duration: 'ten minutes' } } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.pointer).toBe('/schedule/requested/duration');
  });

  test('refuses a body that is not an object', () => {
    expect(validateExecutionRequest([1, 2]).ok).toBe(false);
    expect(validateExecutionRequest('text').ok).toBe(false);
  });
});

describe('update validation', () => {
  test('accepts the spec update documents and refuses incomplete ones', () => {
    expect(validateUpdate({ kind: 'uri:enum-value-update', path: 'phase', value: 'ACCEPTED' }).ok).toBe(true);
    const missing = validateUpdate({ kind: 'uri:enum-value-update', path: 'phase' });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.errors[0]?.pointer).toBe('/value');
    expect(validateUpdate({ kind: 'uri:unknown', path: 'phase', value: 'x' }).ok).toBe(false);
  });
});

describe('ISO 8601', () => {
  test('durations', () => {
    expect(parseDuration('PT10M')).toBe(600_000);
    expect(parseDuration('P1DT1H')).toBe(90_000_000);
    expect(parseDuration('PT1.5S')).toBe(1500);
    expect(parseDuration('10 minutes')).toBeUndefined();
    expect(formatDuration(3_723_000)).toBe('PT1H2M3S');
    expect(formatDuration(0)).toBe('PT0S');
  });
  test('intervals', () => {
    expect(parseInterval('2030-01-01T12:00:00Z/PT1H')).toEqual({ start: Date.UTC(2030, 0, 1, 12), end: Date.UTC(2030, 0, 1, 13) });
    expect(parseInterval('PT2H/2023-08-09')).toEqual({ start: Date.UTC(2023, 7, 8, 22), end: Date.UTC(2023, 7, 9) });
    expect(parseInterval('2023-08-10/2023-08-09')).toBeUndefined();
  });
});
