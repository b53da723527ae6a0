import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { RequestHandler } from 'express';
import { HttpProblem } from '../problem.js';
import { decodeEntities, EntityError } from './entities.js';
import { namedSchema, shapeOf, type ScalarType, type Shape } from './shape.js';

type Node = Record<string, unknown>;
type Json = unknown;

export const XML_TYPES = ['application/xml', 'text/xml'];
export const isXmlType = (type: string): boolean => XML_TYPES.includes(type) || type.endsWith('+xml');

const MAX_DEPTH = 64;

// No DTD (so no external entities, no entity expansion); CDATA kept apart so it is not decoded.
const parser = new XMLParser({
  preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false,
  trimValues: false, processEntities: false, htmlEntities: false, ignoreDeclaration: true, ignorePiTags: true,
  removeNSPrefix: true, cdataPropName: '#cdata', commentPropName: false, maxNestedTags: MAX_DEPTH,
});

class XmlError extends Error {}

const tagOf = (n: Node) => Object.keys(n).find((k) => k !== ':@');
const attrsOf = (n: Node) => (n[':@'] ?? {}) as Record<string, string>;
const childrenOf = (n: Node, tag: string) => (n[tag] ?? []) as Node[];
const elementsOf = (children: Node[]) => children.filter((c) => { const t = tagOf(c); return t !== '#text' && t !== '#cdata'; });

function textOf(children: Node[]): string {
  return children.map((c) => {
    if ('#text' in c) return decodeEntities(String(c['#text']));
    if ('#cdata' in c) return (c['#cdata'] as Node[]).map((x) => String(x['#text'] ?? '')).join('');
    return '';
  }).join('');
}

/** A scalar as the schema types it; text that is not one is left as text, for the schema check to name. */
function scalar(text: string, type: ScalarType | undefined): Json {
  if (type === 'integer' && /^-?\d{1,16}$/.test(text.trim())) return Number(text.trim());
  if (type === 'number' && text.trim() !== '' && Number.isFinite(Number(text.trim()))) return Number(text.trim());
  if (type === 'boolean' && /^(true|false)$/.test(text.trim())) return text.trim() === 'true';
  return text;
}

function kindOf(attrs: Record<string, string>, elements: Node[]): string | undefined {
  if (attrs.kind !== undefined) return decodeEntities(attrs.kind);
  const k = elements.find((e) => tagOf(e) === 'kind');
  return k ? textOf(childrenOf(k, 'kind')) : undefined;
}

/** An element's value where the schema says nothing: text, or an object of its children (repeated ones as lists). */
function generic(children: Node[], attrs: Record<string, string>): Json {
  const elements = elementsOf(children);
  const ownAttrs = Object.entries(attrs).filter(([k]) => !k.startsWith('xmlns') && !k.includes(':'));
  if (elements.length === 0 && ownAttrs.length === 0) return textOf(children);
  const out: Record<string, Json> = Object.fromEntries(ownAttrs.map(([k, v]) => [k, decodeEntities(v)]));
  for (const e of elements) {
    const tag = tagOf(e)!;
    const v = generic(childrenOf(e, tag), attrsOf(e));
    if (tag in out) out[tag] = Array.isArray(out[tag]) ? [...(out[tag] as Json[]), v] : [out[tag], v];
    else out[tag] = v;
  }
  return out;
}

function convert(children: Node[], attrs: Record<string, string>, schema: Record<string, unknown>): Json {
  const elements = elementsOf(children);
  const shape: Shape = shapeOf(schema, kindOf(attrs, elements));
  if (shape.form === 'scalar') return scalar(textOf(children), shape.scalar);
  if (shape.form === 'any') return generic(children, attrs);
  if (shape.form === 'map') {
    // A name -> value map: <name>value</name>, or <entry key="name">value</entry> for names XML cannot spell.
    return Object.fromEntries(elements.map((e) => {
      const tag = tagOf(e)!;
      const a = attrsOf(e);
      return [tag === 'entry' && a.key !== undefined ? decodeEntities(a.key) : tag, textOf(childrenOf(e, tag))];
    }));
  }
  const out: Record<string, Json> = {};
  for (const [name, value] of Object.entries(attrs)) {
    if (name.startsWith('xmlns') || name.includes(':')) continue;
    const slot = shape.byAttribute.get(name) ?? shape.byProp.get(name);
    out[slot?.prop ?? name] = slot ? scalar(decodeEntities(value), shapeOf(slot.schema).scalar) : decodeEntities(value);
  }
  const push = (prop: string, v: Json) => { ((out[prop] ??= []) as Json[]).push(v); };
  for (const e of elements) {
    const tag = tagOf(e)!;
    const inner = childrenOf(e, tag);
    const slot = shape.byElement.get(tag) ?? shape.byProp.get(tag);
    if (!slot) {
      const v = generic(inner, attrsOf(e));
      out[tag] = tag in out ? [...(Array.isArray(out[tag]) ? out[tag] as Json[] : [out[tag]]), v] : v;
    } else if (slot.array && slot.wrapper === tag) {
      out[slot.prop] ??= [];
      for (const item of elementsOf(inner)) push(slot.prop, convert(childrenOf(item, tagOf(item)!), attrsOf(item), slot.schema));
    } else if (slot.array) {
      push(slot.prop, convert(inner, attrsOf(e), slot.schema));
    } else {
      out[slot.prop] = convert(inner, attrsOf(e), slot.schema);
    }
  }
  return out;
}

/**
 * Reads an XML document as the JSON value the named schema describes (its root element's name is not
 * checked). DOCTYPE and entity declarations are refused, nesting is bounded, entities are not expanded.
 */
export function readXml(text: string, schemaName: string): Json {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlError('DOCTYPE and ENTITY declarations are not accepted');
  // Every reference outside CDATA must be one of XML's own, wherever it is (decoding checks that).
  decodeEntities(text.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, ''));
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new XmlError(`${valid.err.msg} (line ${valid.err.line})`);
  let doc: Node[];
  try {
    doc = parser.parse(text) as Node[];
  } catch (err) {
    throw new XmlError((err as Error).message);
  }
  const roots = elementsOf(doc);
  if (roots.length !== 1) throw new XmlError('a document has exactly one root element');
  const root = roots[0]!;
  const tag = tagOf(root)!;
  return convert(childrenOf(root, tag), attrsOf(root), namedSchema(schemaName));
}

/** Parses an XML body; a document that is not well-formed, or uses what is refused, is a 400 problem. */
export function parseXmlBody(text: string, schemaName: string): Json {
  try {
    return readXml(text, schemaName);
  } catch (err) {
    if (err instanceof XmlError || err instanceof EntityError) throw new HttpProblem(400, 'Bad Request', `The body is not acceptable XML: ${err.message}`);
    throw err;
  }
}

/** Names the schema an XML body is read as on this route (JSON and YAML need none); without it XML is 415. */
export function xmlBodyAs(schemaName: string): RequestHandler {
  namedSchema(schemaName);
  return (_req, res, next) => {
    res.locals.xmlSchema = schemaName;
    next();
  };
}
