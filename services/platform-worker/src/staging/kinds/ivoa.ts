import { Kinds, message, type DataResource, type MessageItem } from '@eb/schema';
import { checkUrlStatically } from '@eb/core';
import { readText, safeGet } from '../fetch.js';
import { fileNameFor, shownUrl } from '../names.js';
import { votableRows, type LinkRow } from '../votable.js';
import { httpSourceOf } from './http.js';
import { PlanRefused, type Checksum, type DataKind, type FetchPlan, type PlanContext } from '../plan.js';

interface IvoaBlock {
  ivoid?: string;
  obscore?: { access_url?: string; access_format?: string; obs_publisher_did?: string };
  datalink?: { ID?: string; access_url?: string; semantics?: string; error_message?: string; content_length?: number };
}

const MAX_VOTABLE = 4 * 2 ** 20;
const isDatalink = (format: string | undefined) => /content=datalink/i.test(format ?? '');

/** The #this row of a DataLink document (the dataset itself), or a refusal saying why there is none. */
async function resolveDatalink(links: string, ctx: PlanContext): Promise<{ row: LinkRow; messages: MessageItem[] }> {
  const { res } = await safeGet(links, { policy: ctx.policy, ...(ctx.signal ? { signal: ctx.signal } : {}), headers: { accept: 'application/x-votable+xml' } });
  const rows = votableRows(await readText(res, MAX_VOTABLE));
  const self = rows.find((r) => r.semantics === '#this');
  if (!self) throw new PlanRefused(`the DataLink document at ${shownUrl(links)} has no #this row`);
  if (self.error_message) throw new PlanRefused(`DataLink says: ${self.error_message.slice(0, 300)}`);
  if (!self.access_url) throw new PlanRefused('the DataLink #this row has no access_url');
  return { row: self, messages: [message('urn:data-located', 'INFO', 'DataLink {links}: #this is {url}', { links: shownUrl(links), url: shownUrl(self.access_url) })] };
}

/** Where the dataset is: a given DataLink row, an ObsCore access_url (itself DataLink or not), or the ivoid at the configured DataLink service. */
async function locate(block: IvoaBlock, ctx: PlanContext): Promise<{ url: string; size?: number; messages: MessageItem[]; source?: string }> {
  const dl = block.datalink;
  if (dl?.access_url) {
    if (dl.error_message) throw new PlanRefused(`DataLink says: ${dl.error_message.slice(0, 300)}`);
    if (dl.semantics && dl.semantics !== '#this') throw new PlanRefused(`the DataLink row is ${dl.semantics}, not the dataset itself (#this)`);
    return { url: dl.access_url, ...(typeof dl.content_length === 'number' ? { size: dl.content_length } : {}), messages: [] };
  }
  const oc = block.obscore;
  if (oc?.access_url) {
    if (!isDatalink(oc.access_format)) return { url: oc.access_url, messages: [] };
    checkUrlStatically(ctx.policy, oc.access_url);
    const { row, messages } = await resolveDatalink(oc.access_url, ctx);
    return { url: row.access_url!, ...sizeOf(row), messages };
  }
  if (block.ivoid) {
    const service = ctx.sources.ivoa.find((s) => s.datalink);
    if (!service) throw new PlanRefused('the data is given only by its IVOA identifier, and no DataLink service is configured');
    const links = `${service.datalink!.replace(/\?.*$/, '')}?ID=${encodeURIComponent(block.ivoid)}`;
    const { row, messages } = await resolveDatalink(links, ctx);
    // Counted under the DataLink service's name: an offer knows no more than the ivoid.
    return { url: row.access_url!, ...sizeOf(row), messages, source: service.name };
  }
  throw new PlanRefused('the IVOA data resource has no DataLink row, ObsCore access_url or ivoid');
}

function sizeOf(row: LinkRow): { size?: number } {
  const n = Number(row.content_length);
  return row.content_length && Number.isSafeInteger(n) && n >= 0 ? { size: n } : {};
}

/**
 * IvoaDataResource: resolved through DataLink (the VOTable's #this access_url, read with a real XML
 * parser) or an ObsCore access_url; every URL, the DataLink service's and the dataset's, is checked
 * under the egress policy, and the size DataLink gives is the size expected.
 */
export const ivoaKind: DataKind = {
  kind: Kinds.ivoaData,
  available: () => true,
  async plan(raw: DataResource, ctx: PlanContext): Promise<FetchPlan> {
    const block = ((raw as { ivoa?: IvoaBlock }).ivoa ?? {}) as IvoaBlock;
    const found = await locate(block, ctx);
    checkUrlStatically(ctx.policy, found.url);
    const checksum = (raw as { checksum?: Checksum }).checksum;
    return {
      source: found.source ?? httpSourceOf(found.url, ctx.sources),
      items: [{
        url: found.url, shownUrl: shownUrl(found.url), file: fileNameFor(found.url, ctx.component.name ?? 'data'),
        ...(found.size !== undefined ? { size: found.size } : {}), checksums: checksum ? [checksum] : [],
      }],
      messages: found.messages,
    };
  },
};
