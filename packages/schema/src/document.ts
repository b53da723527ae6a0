import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

// dist/src/document.js -> ../../openapi; the YAML file is the single source of the contract.
const documentPath = fileURLToPath(new URL('../../openapi/execution-broker.yaml', import.meta.url));

export const openapiYaml: string = readFileSync(documentPath, 'utf8');
export const openapiDocument = yaml.load(openapiYaml) as OpenApiDocument;

export interface OpenApiDocument {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, unknown>;
  components: { schemas: Record<string, JsonSchema> };
}

export type JsonSchema = Record<string, unknown>;
