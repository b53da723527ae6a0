import { message, type MessageItem } from '@eb/schema';
import { EgressRefused, checkUrlStatically, type EgressPolicy } from '@eb/core';
import { shownUrl } from './names.js';

/** A replica URL of a file, with what the data service says about where it is. */
export interface ReplicaUrl {
  url: string;
  /** The storage element holding it (Rucio RSE, SRCNet storage area). */
  site: string;
  /** Lower is preferred (the service's own order: closest first). */
  priority: number;
}

/**
 * The replicas the stager may fetch from, best first: those whose URL scheme it speaks (WebDAV's davs
 * and dav are HTTPS and HTTP), in the service's order, skipping any the egress policy refuses (a
 * replica pointing at the metadata service or the broker's own hosts) with a message saying so.
 */
export function usableReplicas(replicas: ReplicaUrl[], policy: EgressPolicy, schemes: readonly string[]): { usable: ReplicaUrl[]; messages: MessageItem[] } {
  const messages: MessageItem[] = [];
  const usable: ReplicaUrl[] = [];
  const ranked = [...replicas].sort((a, b) => a.priority - b.priority);
  for (const r of ranked) {
    let url: URL;
    try {
      url = new URL(r.url);
    } catch {
      continue;
    }
    const scheme = url.protocol.slice(0, -1);
    if (!schemes.includes(scheme)) continue;
    const fetchable = scheme === 'davs' ? `https:${r.url.slice(5)}` : scheme === 'dav' ? `http:${r.url.slice(4)}` : r.url;
    try {
      checkUrlStatically(policy, fetchable);
      usable.push({ ...r, url: fetchable });
    } catch (err) {
      if (!(err instanceof EgressRefused)) throw err;
      messages.push(message('urn:data-replica-refused', 'WARN', 'Not using the replica at {site} ({url}): {reason}', { site: r.site, url: shownUrl(r.url), reason: err.message }));
    }
  }
  return { usable, messages };
}
