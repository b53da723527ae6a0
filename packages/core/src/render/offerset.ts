import { Kinds, type OfferSetResponse } from '@eb/schema';
import type { ExecutionRecord, OfferSetRow } from '@eb/db';
import { renderExecution } from './execution.js';

export function renderOfferSet(set: OfferSetRow, offers: ExecutionRecord[], baseUrl: string): OfferSetResponse {
  return {
    kind: Kinds.offerSet,
    meta: {
      uuid: set.uuid,
      ...(set.name ? { name: set.name } : {}),
      url: `${baseUrl}/offersets/${set.uuid}`,
      created: set.created.toISOString(),
      ...(set.messages.length ? { messages: set.messages } : {}),
    },
    result: set.result,
    offers: offers.map((o) => renderExecution(o, baseUrl)),
  };
}
