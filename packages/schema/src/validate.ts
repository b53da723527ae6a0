import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openapiDocument, type JsonSchema } from './document.js';
import { normalizeRequestKinds } from './kinds.js';

// ajv-formats is published as CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/**
 * The spec expresses polymorphism with `discriminator` and subclasses that `allOf` their abstract base.
 * JSON Schema validators ignore `discriminator`, so a DockerContainer would only be checked as an
 * AbstractExecutable. Here each abstract schema X becomes:
 *   XBase: X without its discriminator (what subclasses extend), and
 *   X:     XBase + `kind` limited to the mapping keys + for each key, the mapped subclass.
 */
function polymorphicDefinitions(schemas: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const defs: Record<string, JsonSchema> = structuredClone(schemas);
  const abstracts = new Map<string, Record<string, string>>();
  for (const [name, schema] of Object.entries(schemas)) {
    const d = schema.discriminator as { mapping?: Record<string, string> } | undefined;
    if (d?.mapping) abstracts.set(name, d.mapping);
  }
  const refName = (ref: string) => ref.replace('#/components/schemas/', '');
  const subclasses = new Set<string>();
  for (const mapping of abstracts.values()) for (const t of Object.values(mapping)) subclasses.add(refName(t));

  for (const [name, mapping] of abstracts) {
    const { discriminator: _unused, ...base } = defs[name] as JsonSchema;
    defs[`${name}Base`] = base;
    defs[name] = {
      $ref: `#/$defs/${name}Base`,
      required: ['kind'],
      properties: { kind: { enum: Object.keys(mapping) } },
      allOf: Object.entries(mapping)
        .filter(([, target]) => refName(target) !== name)
        .map(([kind, target]) => ({
          if: { properties: { kind: { const: kind } }, required: ['kind'] },
          then: { $ref: `#/$defs/${refName(target)}` },
        })),
    };
  }
  // A subclass extends the base, not the dispatching schema (which would recurse into itself).
  for (const sub of subclasses) {
    const schema = defs[sub] as JsonSchema;
    if (!Array.isArray(schema.allOf)) continue;
    schema.allOf = (schema.allOf as JsonSchema[]).map((part) => {
      const ref = part.$ref as string | undefined;
      return ref && abstracts.has(refName(ref)) ? { $ref: `#/$defs/${refName(ref)}Base` } : part;
    });
  }
  const text = JSON.stringify(defs).replaceAll('#/components/schemas/', '#/$defs/');
  return JSON.parse(text) as Record<string, JsonSchema>;
}

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
ajv.addFormat('float', { type: 'number', validate: () => true });
ajv.addFormat('url', true);
ajv.addSchema({ $id: 'eb', $defs: polymorphicDefinitions(openapiDocument.components.schemas) });

const compiled = new Map<string, ValidateFunction>();
function validatorFor(name: string): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = ajv.compile({ $ref: `eb#/$defs/${name}` });
    compiled.set(name, v);
  }
  return v;
}

export interface FieldError {
  /** JSON Pointer (RFC 6901) into the request body. */
  pointer: string;
  message: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

function fieldErrors(errors: ErrorObject[]): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of errors) {
    // "must match then schema" only repeats the errors found inside the subclass.
    if (e.keyword === 'if') continue;
    let pointer = e.instancePath || '/';
    let msg = e.message ?? 'is invalid';
    if (e.keyword === 'required') pointer = `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`;
    if (e.keyword === 'enum') msg = `${msg}: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    const key = `${pointer} ${msg}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ pointer, message: msg });
    }
  }
  return out;
}

export function validateAgainst<T>(schemaName: string, body: unknown): Validation<T> {
  const v = validatorFor(schemaName);
  if (v(body)) return { ok: true, value: body as T };
  return { ok: false, errors: fieldErrors(v.errors ?? []) };
}

function requireObject(body: unknown): FieldError[] {
  return body && typeof body === 'object' && !Array.isArray(body)
    ? []
    : [{ pointer: '/', message: 'must be an object' }];
}

/** Validates an ExecutionRequest, after mapping older kind URIs to the 1.0.7 ones. */
export function validateExecutionRequest<T>(body: unknown): Validation<T> {
  const bad = requireObject(body);
  if (bad.length) return { ok: false, errors: bad };
  normalizeRequestKinds(body);
  return validateAgainst<T>('ExecutionRequest', body);
}

export function validateUpdate<T>(body: unknown): Validation<T> {
  const bad = requireObject(body);
  if (bad.length) return { ok: false, errors: bad };
  return validateAgainst<T>('AbstractUpdate', body);
}

export function describeErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.pointer} ${e.message}`).join('; ');
}
