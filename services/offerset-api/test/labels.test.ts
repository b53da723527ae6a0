import { describe, expect, test } from '@jest/globals';
import { Kinds } from '@eb/schema';
import { checkLabels } from '../src/offers/labels.js';

const exe = (labels: Record<string, string>) => ({ kind: Kinds.dockerContainer, image: { locations: ['x'], digest: 'sha256:0' }, labels });
const kinds = (labels: Record<string, string>, syntax: 'docker' | 'kubernetes' | 'none') => checkLabels(exe(labels), syntax, 'p').map((m) => [m.kind, m.values?.name]);

describe('container labels (schema 1.0.8)', () => {
  test('names beginning calycopis-broker- are reserved on every platform', () => {
    for (const syntax of ['docker', 'kubernetes'] as const) {
      expect(kinds({ 'calycopis-broker-session-uid': 'x', team: 'astro' }, syntax)).toEqual([['urn:reserved-label', 'calycopis-broker-session-uid']]);
    }
  });

  test('Docker takes any printable name and value; control characters and oversized labels are refused', () => {
    expect(kinds({ 'org.example/Team Name': 'Radio Astronomy, group 7' }, 'docker')).toEqual([]);
    expect(kinds({ 'a\u0000b': 'x', ok: 'tab\there', long: 'v'.repeat(1025) }, 'docker').map(([k]) => k)).toEqual(['urn:invalid-value', 'urn:invalid-value', 'urn:invalid-value']);
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v']));
    expect(kinds(many, 'docker')).toEqual([['urn:invalid-value', '65 labels']]);
  });

  test('on Kubernetes, what the API server would refuse is refused up front', () => {
    expect(kinds({ 'example.org/team': 'astro', app: 'reduce-1.2_b', empty: '' }, 'kubernetes')).toEqual([]);
    const refused = kinds({ 'Team Name': 'x', 'UPPER.org/x': 'y', 'kubernetes.io/x': 'y', ok: 'has space', long: 'v'.repeat(64) }, 'kubernetes');
    expect(refused.map(([, name]) => name)).toEqual(['Team Name', 'UPPER.org/x', 'kubernetes.io/x', 'ok', 'long']);
    expect(refused.every(([k]) => k === 'urn:invalid-value')).toBe(true);
  });

  test('a platform that cannot label (Skaha) answers urn:not-supported; no labels, no messages', () => {
    expect(kinds({ team: 'astro' }, 'none')).toEqual([['urn:not-supported', undefined]]);
    expect(kinds({}, 'none')).toEqual([]);
  });
});
