import { randomUUID } from 'node:crypto';
import { message, type AbstractComponent, type MessageItem } from '@eb/schema';
import type { NewComponent, NewOffer, NewOfferSet, PlanningContext } from '@eb/db';
import type { RequestTree } from './request-tree.js';
import { planOffers, type PlanSettings } from './plan.js';
import { FreeCalendar } from '@eb/core';

export interface OfferSettings extends PlanSettings {
  platform: string;
  offerTtlMs: number;
}

function component(role: NewComponent['role'], position: number, c: AbstractComponent, strip: string[] = []): NewComponent {
  const spec: Record<string, unknown> = { ...c };
  for (const key of ['kind', 'phase', 'schedule', ...strip]) delete spec[key];
  return { uuid: randomUUID(), role, position, name: c.meta?.name ?? null, kind: c.kind, spec };
}

function components(tree: RequestTree): NewComponent[] {
  const out: NewComponent[] = [];
  if (tree.executable) out.push(component('executable', 0, tree.executable));
  if (tree.compute) {
    out.push(component('compute', 0, tree.compute, ['volumes', 'cores', 'memory']));
    (tree.compute.volumes ?? []).forEach((v, i) => out.push(component('volume', i, v)));
  }
  // Storage is promised at the size asked for as its minimum; the offer echoes exactly that.
  tree.storage.forEach((s, i) => {
    const c = component('storage', i, s);
    const size = tree.storageSizes[i]!;
    c.spec.size = { min: size, max: size };
    out.push(c);
  });
  tree.data.forEach((d, i) => out.push(component('data', i, d)));
  return out;
}

function shortMessage(short: string[], reason: 'capacity' | 'window'): MessageItem {
  if (reason === 'window') {
    return message('urn:no-slot', 'ERROR', 'No start time in the requested interval is still in the future', {});
  }
  return message('urn:insufficient-resources', 'ERROR',
    'Not enough free [{resources}] for the requested duration within the booking horizon', { resources: short.join(', ') });
}

/** Builds the offer set to store: offers when the plan found room, otherwise NO with the reason. */
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
  if (problems.length) return { ...base, result: 'NO', messages: problems, offers: [] };
  if (!ctx) {
    const m = message('urn:platform-unavailable', 'ERROR', 'The platform [{platform}] is not configured', { platform: s.platform });
    return { ...base, result: 'NO', messages: [m], offers: [] };
  }
  const plan = planOffers(tree, new FreeCalendar(ctx.calendar, ctx.horizonMs), now, s);
  if (!plan.ok) return { ...base, result: 'NO', messages: [shortMessage(plan.short, plan.reason)], offers: [] };
  const offers: NewOffer[] = plan.offers.map((p, i) => ({
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
    components: components(tree),
  }));
  return { ...base, result: 'YES', messages: [], offers };
}
