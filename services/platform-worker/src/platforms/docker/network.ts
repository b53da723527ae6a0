import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { ContainerEgress } from './config.js';
import { LABEL_EXECUTION, LABEL_MANAGED, LABEL_SPARE } from './labels.js';

const run = promisify(execFile);
const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

// Every execution's bridge is named eb-<12 hex>, so one iptables rule with the `eb-+` wildcard covers them all.
const BRIDGE_PREFIX = 'eb-';
export const networkName = (executionUuid: string) => `eb-exec-${executionUuid}`;
const SPARE_PREFIX = 'eb-net-';
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
  await createBridge(docker, name, bridgeName(executionUuid), egress, { [LABEL_EXECUTION]: executionUuid }).catch((err: unknown) => {
    if (statusOf(err) !== 409) throw err; // made by another worker meanwhile
  });
  return name;
}

/**
 * A network made before any execution needs it, the same as an execution's but for its name (an
 * execution's uuid is not known yet): given to one execution only, and removed with it.
 */
export async function createSpareNetwork(docker: Docker, egress: ContainerEgress): Promise<string> {
  const id = randomBytes(6).toString('hex');
  const name = `${SPARE_PREFIX}${id}`;
  await createBridge(docker, name, `${BRIDGE_PREFIX}${id}`, egress, { [LABEL_SPARE]: 'true' });
  return name;
}

/** Whether a network name is one the broker made (an execution's or a spare): the only ones it removes. */
export const isOurNetwork = (name: string | undefined): name is string =>
  !!name && (name.startsWith(networkName('')) || name.startsWith(SPARE_PREFIX));

function createBridge(docker: Docker, name: string, bridge: string, egress: ContainerEgress, labels: Record<string, string>): Promise<unknown> {
  return docker.createNetwork({
    Name: name,
    Driver: 'bridge',
    Internal: egress === 'none',
    CheckDuplicate: true,
    Options: { 'com.docker.network.bridge.name': bridge, 'com.docker.network.bridge.enable_icc': 'true' },
    Labels: { [LABEL_MANAGED]: 'true', ...labels },
  });
}

export async function removeNetwork(docker: Docker, name: string): Promise<void> {
  await docker.getNetwork(name).remove().catch((err: unknown) => {
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
