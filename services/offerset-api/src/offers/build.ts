import { randomUUID } from 'node:crypto';
import { Kinds, message, type AbstractComponent, type ExecutionRequest, type MessageItem } from '@eb/schema';
import type { NewComponent, NewOffer, NewOfferSet, PlanningContext } from '@eb/db';
import type { RequestTree } from './request-tree.js';
import { planOffers, type PlanSettings } from './plan.js';
import { FreeCalendar } from '@eb/core';
import { applyLinks } from './links.js';
import { quoteAndFilter } from '../costs/apply.js';
import { DEFAULT_COST_PROFILE, type CostProfile } from '../costs/profile.js';
import type { OfferQuote } from '../costs/quote.js';

export interface OfferSettings extends PlanSettings {
  platform: string;
  offerTtlMs: number;
  /** Offer sets with live offers one owner may hold; older ones are released (EB_MAX_OPEN_OFFERSETS_PER_OWNER). */
  maxOpenOfferSetsPerOwner?: number;
  /** The output streams the platform gives back (none when unset). */
  outputs?: readonly string[];
  /** What offers cost and deliver on this platform (the default profile when unset). */
  costProfile?: CostProfile;
}

function component(role: NewComponent['role'], position: number, c: AbstractComponent, strip: string[] = []): NewComponent {
  const spec: Record<string, unknown> = { ...c };
  // Costs and metrics in a response are the broker's quotes, never what the request said.
  for (const key of ['kind', 'phase', 'schedule', 'costs', 'metrics', ...strip]) delete spec[key];
  return { uuid: randomUUID(), role, position, name: c.meta?.name ?? null, kind: c.kind, spec };
}

function components(tree: RequestTree, quote: OfferQuote): NewComponent[] {
  const out: NewComponent[] = [];
  if (tree.executable) out.push(component('executable', 0, tree.executable));
  if (tree.compute) {
    const compute = component('compute', 0, tree.compute, ['volumes', 'cores', 'memory']);
    Object.assign(compute.spec, quote.compute);
    out.push(compute);
  }
  const volumes = (tree.compute?.volumes ?? []).map((v, i) => component('volume', i, v));
  // Storage is promised at the size asked for as its minimum; the offer echoes exactly that.
  const storage = tree.storage.map((s, i) => {
    const c = component('storage', i, s);
    const size = tree.storageSizes[i]!;
    c.spec.size = { min: size, max: size };
    return c;
  });
  const data = tree.data.map((d, i) => component('data', i, d));
  applyLinks(tree.links, { storage, data, volumes });
  return [...out, ...volumes, ...storage, ...data];
}

function shortMessage(short: string[], reason: 'capacity' | 'window'): MessageItem {
  if (reason === 'window') {
    return message('urn:no-slot', 'ERROR', 'No start time in the requested interval is still in the future', {});
  }
  return message('urn:insufficient-resources', 'ERROR',
    'Not enough free [{resources}] for the requested duration within the booking horizon', { resources: short.join(', ') });
}

/**
 * Builds the offer set to store: offers when the plan found room, otherwise NO with the reason. Any
 * ERROR among `problems` makes it NO; the others are warnings shown beside the offers.
 */
export function buildOfferSet(
  tree: RequestTree,
  request: unknown,
  who: { owner: string; readers: string[] },
  problems: MessageItem[],
  ctx: PlanningContext | undefined,
  s: OfferSettings,
): NewOfferSet {
  const now = ctx?.now.getTime() ?? Date.now();
  const base = {
    uuid: randomUUID(), owner: who.owner, readers: who.readers, name: tree.executable?.meta?.name ?? null,
    expires: new Date(now + s.offerTtlMs), request,
  };
  if (problems.some((m) => m.level === 'ERROR')) return { ...base, result: 'NO', messages: problems, offers: [] };
  if (!ctx) {
    const m = message('urn:platform-unavailable', 'ERROR', 'The platform [{platform}] is not configured', { platform: s.platform });
    return { ...base, result: 'NO', messages: [m], offers: [] };
  }
  const plan = planOffers(tree, new FreeCalendar(ctx.calendar, ctx.horizonMs), now, s);
  if (!plan.ok) return { ...base, result: 'NO', messages: [shortMessage(plan.short, plan.reason)], offers: [] };
  const quoted = quoteAndFilter(plan.offers, request as ExecutionRequest, s.costProfile ?? DEFAULT_COST_PROFILE);
  if (!quoted.ok) return { ...base, result: 'NO', messages: quoted.messages, offers: [] };
  const offers: NewOffer[] = quoted.offers.map(({ planned: p, quote }, i) => ({
    uuid: randomUUID(),
    name: base.name ? `${base.name}-offer-${i}` : `offer-${i}`,
    platform: s.platform,
    expires: base.expires,
    prepareStart: new Date(p.prepareStart),
    prepareMs: p.availableStart - p.prepareStart,
    availableStart: new Date(p.availableStart),
    availableMs: p.releaseStart - p.availableStart,
    releaseStart: new Date(p.releaseStart),
    releaseMs: p.end - p.releaseStart,
    cores: p.cores,
    memoryGib: p.memoryGib,
    storageGib: p.storageGib,
    interactive: tree.interactive,
    // Never before the requested window; without one, any time from now.
    earliestStart: tree.earlyStart ? new Date(Math.max(now, tree.startWindows[0]?.start ?? now)) : null,
    // The executed notebook is an output of notebooks only.
    outputs: tree.executable ? (s.outputs ?? []).filter((o) => o !== 'notebook' || tree.executable!.kind === Kinds.jupyterNotebook) : [],
    costs: quote.session.costs,
    metrics: quote.session.metrics,
    components: components(tree, quote),
  }));
  // Warnings (e.g. a maximum lowered to what the platform has) go with the offers.
  return { ...base, result: 'YES', messages: problems, offers };
}
