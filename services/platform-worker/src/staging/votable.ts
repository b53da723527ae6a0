import { XMLParser } from 'fast-xml-parser';
import { PlanRefused } from './plan.js';

/** One row of a DataLink response, by its standard field names (ID, access_url, semantics, ...). */
export type LinkRow = Record<string, string>;

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const text = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return String((v as { '#text'?: unknown })['#text'] ?? '');
  return String(v);
};

/**
 * The rows of a VOTable's results table (TABLEDATA serialisation), keyed by FIELD name. Parsed with an
 * XML parser that expands no entities, and a document with a DOCTYPE is refused outright (entity
 * expansion bombs, external entities): VOTables have no need of one.
 */
export function votableRows(xml: string): LinkRow[] {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new PlanRefused('the VOTable has a DOCTYPE or entity declarations, which are refused');
  const parser = new XMLParser({
    ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: true, processEntities: false, parseTagValue: false, parseAttributeValue: false,
    isArray: (name) => ['RESOURCE', 'TABLE', 'FIELD', 'TR', 'TD', 'INFO'].includes(name),
  });
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml, true) as Record<string, unknown>;
  } catch (err) {
    throw new PlanRefused(`the DataLink answer is not well-formed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  const votable = doc.VOTABLE as Record<string, unknown> | undefined;
  if (!votable) throw new PlanRefused('the DataLink answer is not a VOTable');
  const resources = asArray(votable.RESOURCE as Record<string, unknown>[]);
  const results = resources.find((r) => r['@_type'] === 'results') ?? resources[0];
  const table = asArray(results?.TABLE as Record<string, unknown>[])[0];
  if (!table) throw new PlanRefused('the VOTable has no results table');
  const fields = asArray(table.FIELD as Record<string, unknown>[]).map((f) => String(f['@_name'] ?? f['@_ID'] ?? ''));
  const rows = asArray(((table.DATA as Record<string, unknown> | undefined)?.TABLEDATA as Record<string, unknown> | undefined)?.TR as Record<string, unknown>[]);
  return rows.map((tr) => {
    const cells = asArray(tr.TD as unknown[]);
    return Object.fromEntries(fields.map((name, i) => [name, text(cells[i]).trim()]));
  });
}
