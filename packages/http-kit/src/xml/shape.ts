import { canonicalKind, openapiDocument } from '@eb/schema';

// How a schema of the OpenAPI document looks in XML, following the spec's `xml` objects: `name`
// renames an element (on a property, or on array items), `attribute` makes a property an attribute,
// `wrapped` puts an array's items inside one element; unwrapped items repeat under their own name.

type S = Record<string, unknown>;
const schemas = openapiDocument.components.schemas as Record<string, S>;
const refName = (ref: string) => ref.replace('#/components/schemas/', '');

export type ScalarType = 'string' | 'integer' | 'number' | 'boolean';

export interface Slot {
  prop: string;
  /** The element of the value, or of each item of an array. */
  element: string;
  attribute: boolean;
  array: boolean;
  /** The element around the items of a wrapped array. */
  wrapper?: string;
  /** The schema of the value (of each item, for an array). */
  schema: S;
}

export interface Shape {
  form: 'object' | 'map' | 'scalar' | 'any';
  scalar?: ScalarType;
  byProp: Map<string, Slot>;
  /** Element (or wrapper) name -> slot. */
  byElement: Map<string, Slot>;
  byAttribute: Map<string, Slot>;
  /** The element name the schema gives itself, for a document's root. */
  rootName?: string;
}

interface XmlObject { name?: string; attribute?: boolean; wrapped?: boolean }

/** A schema with its `$ref` followed; keywords beside the `$ref` (xml, description) win. */
function deref(s: S): S {
  let out = s;
  for (let i = 0; i < 20 && typeof out.$ref === 'string'; i++) {
    const { $ref, ...beside } = out;
    out = { ...(schemas[refName($ref as string)] ?? {}), ...beside };
  }
  return out;
}

interface Flat { type?: string; properties: Record<string, S>; additional?: unknown; items?: S; xml?: XmlObject; discriminator?: Record<string, string> }

/** Properties and type of a schema with its `allOf` parts merged in. */
function flatten(s: S, top = true): Flat {
  const d = deref(s);
  const flat: Flat = { properties: {} };
  for (const part of (d.allOf as S[] | undefined) ?? []) {
    const f = flatten(part, false);
    Object.assign(flat.properties, f.properties);
    flat.type ??= f.type;
    flat.additional ??= f.additional;
    flat.items ??= f.items;
    flat.xml ??= f.xml;
  }
  Object.assign(flat.properties, (d.properties as Record<string, S> | undefined) ?? {});
  if (typeof d.type === 'string') flat.type = d.type;
  if (d.additionalProperties !== undefined) flat.additional = d.additionalProperties;
  if (d.items) flat.items = d.items as S;
  if (d.xml) flat.xml = d.xml as XmlObject;
  const mapping = (d.discriminator as { mapping?: Record<string, string> } | undefined)?.mapping;
  if (top && mapping) flat.discriminator = Object.fromEntries(Object.entries(mapping).map(([k, v]) => [k, refName(v)]));
  return flat;
}

function slotFor(prop: string, propSchema: S): Slot {
  const own = propSchema.xml as XmlObject | undefined;
  const target = flatten(propSchema);
  if (target.type === 'array' && target.items) {
    const itemXml = target.items.xml as XmlObject | undefined;
    const element = itemXml?.name ?? prop;
    return {
      prop, element, attribute: false, array: true, schema: target.items,
      ...(target.xml?.wrapped ? { wrapper: target.xml.name ?? prop } : {}),
    };
  }
  return { prop, element: own?.name ?? prop, attribute: own?.attribute === true || (target.xml?.attribute === true), array: false, schema: propSchema };
}

// Schemas are the document's own objects (or slots made once from them), so identity is a fine key.
const cache = new WeakMap<S, Map<string, Shape>>();

/**
 * The XML shape of a schema; for a polymorphic one, of the subclass that `kind` names (alias kinds
 * included), so a DockerContainer's own fields are known.
 */
export function shapeOf(schema: S, kind?: string): Shape {
  let flat = flatten(schema);
  const sub = kind !== undefined ? flat.discriminator?.[canonicalKind(kind)] : undefined;
  const byKind = cache.get(schema) ?? new Map<string, Shape>();
  cache.set(schema, byKind);
  const hit = byKind.get(sub ?? '');
  if (hit) return hit;
  if (sub && schemas[sub]) flat = flatten({ $ref: `#/components/schemas/${sub}` });
  const shape: Shape = { form: 'any', byProp: new Map(), byElement: new Map(), byAttribute: new Map(), ...(flat.xml?.name ? { rootName: flat.xml.name } : {}) };
  const props = Object.entries(flat.properties);
  if (['string', 'integer', 'number', 'boolean'].includes(flat.type ?? '')) {
    shape.form = 'scalar';
    shape.scalar = flat.type as ScalarType;
  } else if (props.length === 0 && flat.additional && typeof flat.additional === 'object') {
    shape.form = 'map';
  } else if (props.length > 0 || flat.type === 'object') {
    shape.form = 'object';
    for (const [prop, s] of props) {
      const slot = slotFor(prop, s);
      shape.byProp.set(prop, slot);
      if (slot.attribute) shape.byAttribute.set(slot.element, slot);
      shape.byElement.set(slot.wrapper ?? slot.element, slot);
    }
  }
  byKind.set(sub ?? '', shape);
  return shape;
}

const named = new Map<string, S>();

/** The schema of a named component of the document. */
export function namedSchema(name: string): S {
  if (!schemas[name]) throw new Error(`no schema named ${name} in the OpenAPI document`);
  let s = named.get(name);
  if (!s) named.set(name, (s = { $ref: `#/components/schemas/${name}` }));
  return s;
}
