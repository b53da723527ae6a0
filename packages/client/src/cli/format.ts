import type { Execution, MessageItem, OfferSet } from '../types.js';

export function elapsed(ms: number): string {
  const s = ms / 1000;
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${(s - m * 60).toFixed(1).padStart(4, '0')}`;
}

export function messagesText(messages: MessageItem[] | undefined): string[] {
  return (messages ?? []).map((m) => `  ${m.level ?? 'INFO'} ${m.kind ?? ''} ${m.message ?? m.template ?? ''}`.trimEnd());
}

export function offerSetText(set: OfferSet): string {
  const lines = [`offer set ${set.meta?.uuid ?? '?'}: ${set.result}`];
  for (const o of (set.offers ?? []) as Execution[]) {
    const c = o.compute as { cores?: { min?: number }; memory?: { min?: number } } | undefined;
    lines.push(`  ${o.meta?.uuid}  start ${o.schedule?.preparing?.start ?? '?'}  for ${o.schedule?.available?.duration ?? '?'}  `
      + `cores ${c?.cores?.min ?? '-'}  memory ${c?.memory?.min ?? '-'} GiB  expires ${o.expires ?? '-'}`);
  }
  lines.push(...messagesText(set.meta?.messages));
  return lines.join('\n');
}

export function executionText(e: Execution): string {
  const lines = [`execution ${e.meta?.uuid}: ${e.phase}`];
  for (const c of e.connectors ?? []) {
    // Output connectors (stdout, stderr) are read with `eb logs`; the others are where to reach the executable.
    const stream = /(stdout|stderr)-get\.yaml$/.exec(c.kind ?? '')?.[1];
    lines.push(stream ? `  ${stream} ${c.status ?? ''} ${c.location ?? ''}`.trimEnd() : `  access ${c.protocol ?? ''} ${c.location ?? ''}`);
  }
  lines.push(...messagesText(e.meta?.messages?.filter((m) => m.kind !== 'urn:phase-change')));
  return lines.join('\n');
}
