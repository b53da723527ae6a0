import { namedSchema, shapeOf, type Slot } from './shape.js';

// XML 1.0 cannot carry most control characters, even as references: they are replaced.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const escapeText = (s: string) => s.replace(NOT_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, '&quot;');
// Names XML can spell (ASCII subset, not starting with "xml"); others are written as <entry key="...">.
const XML_NAME = /^(?!xml)[A-Za-z_][A-Za-z0-9._-]*$/i;

type Schema = Record<string, unknown>;

function text(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

function named(name: string, inner: string, attrs = ''): string {
  const [open, close] = XML_NAME.test(name) ? [`${name}${attrs}`, name] : [`entry key="${escapeAttr(name)}"${attrs}`, 'entry'];
  return inner === '' ? `<${open}/>` : `<${open}>${inner}</${close}>`;
}

/** A value the schema says nothing about: objects as elements, lists as repeated elements. */
function generic(name: string, v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => generic(name, x)).join('');
  if (typeof v === 'object') return named(name, Object.entries(v as Record<string, unknown>).map(([k, x]) => generic(k, x)).join(''));
  return named(name, escapeText(text(v)));
}

function element(name: string, v: unknown, schema: Schema | undefined): string {
  if (v === undefined || v === null) return '';
  if (!schema) return generic(name, v);
  const isObject = typeof v === 'object' && !Array.isArray(v);
  const obj = v as Record<string, unknown>;
  const shape = shapeOf(schema, isObject && typeof obj.kind === 'string' ? obj.kind : undefined);
  if (!isObject || shape.form === 'scalar' || shape.form === 'any') return generic(name, v);
  if (shape.form === 'map') return named(name, Object.entries(obj).map(([k, x]) => named(k, escapeText(text(x)))).join(''));
  let attrs = '';
  let inner = '';
  for (const [prop, value] of Object.entries(obj)) {
    const slot: Slot | undefined = shape.byProp.get(prop);
    if (slot?.attribute && value !== undefined) attrs += ` ${slot.element}="${escapeAttr(text(value))}"`;
    else if (!slot) inner += generic(prop, value);
    else if (slot.array && Array.isArray(value)) {
      const items = value.map((x) => element(slot.element, x, slot.schema)).join('');
      inner += slot.wrapper ? named(slot.wrapper, items) : items;
    } else inner += element(slot.element, value, slot.schema);
  }
  return named(name, inner, attrs);
}

/** Writes a value as the XML document of the named schema, its root element named as the schema says. */
export function writeXml(value: unknown, schemaName: string): string {
  const schema = namedSchema(schemaName);
  const kind = (value as { kind?: unknown } | null)?.kind;
  const root = shapeOf(schema, typeof kind === 'string' ? kind : undefined).rootName ?? schemaName;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element(root, value, schema)}\n`;
}
