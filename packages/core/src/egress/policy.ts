import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';

/**
 * Where the broker may fetch data from on a user's behalf. The stager runs inside the operator's
 * network, so by default every address that is not plainly public is refused: loopback (the broker's
 * own database, Redis, APIs), private and shared ranges, link-local (cloud metadata services),
 * multicast and reserved space. Operators allow more with EB_EGRESS_ALLOW; tests allow their own server
 * the same way. Checked on the literal host, after DNS resolution, and again on every redirect.
 */
export interface EgressPolicy {
  denied: BlockList;
  /** CIDRs and addresses allowed although denied above. */
  allowedNets: BlockList;
  /** Host names (exact, or `*.suffix`), optionally with a port, allowed whatever they resolve to. */
  allowedHosts: { host: string; port?: number }[];
  allowedSchemes: readonly string[];
}

const DENIED_V4 = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4'];
// IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged by its IPv4 address (see v4Of).
const DENIED_V6 = ['::/127', '64:ff9b::/96', '100::/64', '2001:db8::/32', 'fc00::/7', 'fe80::/10', 'fec0::/10', 'ff00::/8'];

function addCidr(list: BlockList, cidr: string): void {
  const [addr, bits] = cidr.split('/');
  const type = isIP(addr!) === 6 ? 'ipv6' : 'ipv4';
  if (!isIP(addr!)) throw new Error(`not an address or network: ${cidr}`);
  if (bits === undefined) list.addAddress(addr!, type);
  else list.addSubnet(addr!, Number(bits), type);
}

/** EB_EGRESS_ALLOW: comma-separated CIDRs, addresses, `host`, `*.domain` or `host:port`; EB_EGRESS_DENY: more CIDRs. */
export function egressPolicy(allow = process.env.EB_EGRESS_ALLOW ?? '', deny = process.env.EB_EGRESS_DENY ?? ''): EgressPolicy {
  const denied = new BlockList();
  DENIED_V4.forEach((c) => addCidr(denied, c));
  DENIED_V6.forEach((c) => addCidr(denied, c));
  deny.split(',').map((s) => s.trim()).filter(Boolean).forEach((c) => addCidr(denied, c));
  const allowedNets = new BlockList();
  const allowedHosts: EgressPolicy['allowedHosts'] = [];
  for (const entry of allow.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (isIP(entry.split('/')[0]!) && (entry.includes('/') || isIP(entry))) addCidr(allowedNets, entry);
    else {
      const m = /^(.+?)(?::(\d+))?$/.exec(entry)!;
      allowedHosts.push({ host: m[1]!.toLowerCase(), ...(m[2] ? { port: Number(m[2]) } : {}) });
    }
  }
  return { denied, allowedNets, allowedHosts, allowedSchemes: ['http:', 'https:'] };
}

const family = (a: string) => (isIP(a) === 6 ? 'ipv6' : 'ipv4');
const bare = (host: string) => host.replace(/^\[|\]$/g, '').toLowerCase();

function hostAllowed(p: EgressPolicy, url: URL): boolean {
  const host = bare(url.hostname);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return p.allowedHosts.some((a) => (a.port === undefined || a.port === port)
    && (a.host === host || (a.host.startsWith('*.') && host.endsWith(a.host.slice(1)))));
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:7f00:1` → `127.0.0.1`), else the address. */
function v4Of(address: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return address;
  const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Whether an address may be contacted (for a URL whose host is not explicitly allowed). */
export function addressAllowed(p: EgressPolicy, address: string): boolean {
  const a = v4Of(bare(address));
  if (p.allowedNets.check(a, family(a))) return true;
  return !p.denied.check(a, family(a));
}

export class EgressRefused extends Error {}

/** Checks what can be checked without DNS: scheme, credentials, literal addresses, `localhost`. */
export function checkUrlStatically(p: EgressPolicy, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EgressRefused(`not a valid URL: ${raw.slice(0, 200)}`);
  }
  if (!p.allowedSchemes.includes(url.protocol)) throw new EgressRefused(`the scheme ${url.protocol} is not allowed (only ${p.allowedSchemes.join(', ')})`);
  if (url.username || url.password) throw new EgressRefused('credentials in URLs are not accepted');
  if (hostAllowed(p, url)) return url;
  const host = bare(url.hostname);
  if (isIP(host) && !addressAllowed(p, host)) throw new EgressRefused(`the address ${host} is in a network the broker does not fetch from`);
  if (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.') && !isIP(host)) {
    throw new EgressRefused(`the host ${host} is local to the broker`);
  }
  return url;
}

/**
 * Resolves a URL's host and returns the address to connect to, refusing when any address it resolves
 * to is not allowed (so a name that resolves to both a public and a private address is refused).
 * The caller connects to this address, so a second DNS answer cannot swap it (no rebinding).
 */
export async function resolveForFetch(p: EgressPolicy, url: URL): Promise<{ address: string; family: 4 | 6 }> {
  const host = bare(url.hostname);
  if (isIP(host)) return { address: host, family: isIP(host) as 4 | 6 };
  const answers = await lookup(host, { all: true, verbatim: true });
  if (!answers.length) throw new EgressRefused(`${host} does not resolve`);
  if (!hostAllowed(p, url)) {
    const bad = answers.find((a) => !addressAllowed(p, a.address));
    if (bad) throw new EgressRefused(`${host} resolves to ${bad.address}, in a network the broker does not fetch from`);
  }
  return { address: answers[0]!.address, family: answers[0]!.family as 4 | 6 };
}
