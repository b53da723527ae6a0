import type { Express } from 'express';
import { openapiDocument, openapiYaml } from '@eb/schema';

export function serveOpenApi(app: Express): void {
  app.get('/openapi.json', (_req, res) => { res.json(openapiDocument); });
  app.get('/openapi.yaml', (_req, res) => { res.type('application/yaml').send(openapiYaml); });
}
