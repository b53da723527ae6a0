import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { ContainerEgress } from './config.js';
import { LABEL_EXECUTION, LABEL_MANAGED } from './labels.js';

const run = promisify(execFile);
const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

// Every execution's bridge is named eb-<12 hex>, so one iptables rule with the `eb-+` wildcard covers them all.
const BRIDGE_PREFIX = 'eb-';
export const networkName = (executionUuid: string) => `eb-exec-${executionUuid}`;
const bridgeName = (executionUuid: string) => `${BRIDGE_PREFIX}${executionUuid.replace(/-/g, '').slice(0, 12)}`;

/**
 * One bridge network per execution: its containers reach nothing of other executions' (Docker isolates
 * bridges from each other), and with the firewall rules below, nothing of the host's or the private
 * networks'. `none` makes it an internal network, with no route out at all.
 */
export async function ensureExecutionNetwork(docker: Docker, executionUuid: string, egress: ContainerEgress): Promise<string> {
  const name = networkName(executionUuid);
  const existing = await docker.getNetwork(name).inspect().catch(() => undefined);
  if (existing) return name;
  await docker.createNetwork({
    Name: name,
    Driver: 'bridge',
    Internal: egress === 'none',
    CheckDuplicate: true,
    Options: { 'com.docker.network.bridge.name': bridgeName(executionUuid), 'com.docker.network.bridge.enable_icc': 'true' },
    Labels: { [LABEL_MANAGED]: 'true', [LABEL_EXECUTION]: executionUuid },
  }).catch((err: unknown) => {
    if (statusOf(err) !== 409) throw err; // made by another worker meanwhile
  });
  return name;
}

export async function removeExecutionNetwork(docker: Docker, executionUuid: string): Promise<void> {
  await docker.getNetwork(networkName(executionUuid)).remove().catch((err: unknown) => {
    if (statusOf(err) !== 404) throw err;
  });
}

const PRIVATE_V4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'];

/** Our chains, rebuilt whole each time (flush, then append in order), and where they hang from. */
function chains(egress: ContainerEgress): { chain: string; from: string; rules: string[][] }[] {
  const out = [{
    chain: 'EB-HOST', from: 'INPUT',
    rules: [
      // Answers to connections the host made (published ports through docker-proxy) still get back.
      ['-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'],
      ['-j', 'DROP'],
    ],
  }];
  if (egress === 'public') {
    out.push({ chain: 'EB-EGRESS', from: 'DOCKER-USER', rules: PRIVATE_V4.map((net) => ['-d', net, '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP']) });
  }
  return out;
}

const iptables = (...args: string[]) => run('iptables', ['-w', ...args]);

/**
 * Installs the rules that keep user containers off the host's own services (INPUT) and, for `public`,
 * off private and link-local networks (DOCKER-USER, which Docker consults first). Each set lives in a
 * chain of ours, rebuilt in order, and is reached by one jump for traffic from the `eb-` bridges.
 * Idempotent; needs root; without iptables it logs and goes on.
 */
export async function installFirewall(egress: ContainerEgress, logger: Logger): Promise<boolean> {
  try {
    for (const c of chains(egress)) {
      await iptables('-N', c.chain).catch(() => undefined); // exists already
      await iptables('-F', c.chain);
      for (const rule of c.rules) await iptables('-A', c.chain, ...rule);
      const jump = ['-i', `${BRIDGE_PREFIX}+`, '-j', c.chain];
      const present = await iptables('-C', c.from, ...jump).then(() => true, () => false);
      if (!present) await iptables('-I', c.from, '1', ...jump);
    }
    return true;
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'could not install the container firewall rules: containers can reach the host');
    return false;
  }
}
