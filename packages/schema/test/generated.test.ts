import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test -> the package
const dir = fileURLToPath(new URL('../../', import.meta.url));

describe('types generated from the OpenAPI document', () => {
  test('src/generated/openapi.ts is what the document gives now (regenerate with pnpm --filter @eb/schema generate)', () => {
    const out = join(tmpdir(), `openapi-${randomUUID()}.ts`);
    try {
      execFileSync(join(dir, 'node_modules/.bin/openapi-typescript'), [join(dir, 'openapi/execution-broker.yaml'), '-o', out, '--default-non-nullable', 'false'], { stdio: 'ignore' });
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(dir, 'src/generated/openapi.ts'), 'utf8'));
    } finally {
      rmSync(out, { force: true });
    }
  }, 60_000);
});
