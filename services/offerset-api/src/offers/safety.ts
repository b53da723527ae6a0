import { Kinds, message, type DockerContainer, type MessageItem } from '@eb/schema';
import { EgressRefused, checkUrlStatically, mountPathProblem, type EgressPolicy } from '@eb/core';
import { checkDataSources } from './data-sources.js';
import type { DataSourceInfo } from '@eb/db';
import type { RequestTree } from './request-tree.js';

/**
 * Checks on what a hostile request could turn into paths, URLs, processes or privileges on the
 * platform's host. They run before any planning, so a bad request is a NO at once (with the message
 * naming the field), not a failure minutes later on the platform.
 */

const PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'UDP'];
// repo[:port]/path[:tag][@sha256:...] as the Docker reference grammar has it (lower-case path components).
const IMAGE_REF = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d{1,5})?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LIMITS = { ports: 32, env: 256, volumes: 64, data: 64, storage: 64, args: 1024, name: 255 };

const invalid = (path: string, value: unknown, reason: string) =>
  message('urn:invalid-value', 'ERROR', 'Invalid value [{value}] for [{path}]: {reason}', { path, value: String(value).slice(0, 200), reason });
const notSupported = (path: string, what: string) =>
  message('urn:not-supported', 'ERROR', '{what} not supported [{path}]', { path, what });

function checkPorts(exe: DockerContainer, out: MessageItem[]): void {
  const ports = exe.network?.ports ?? [];
  if (ports.length > LIMITS.ports) out.push(invalid('executable.network.ports', ports.length, `at most ${LIMITS.ports} ports`));
  ports.forEach((p, i) => {
    const at = `executable.network.ports[${i}]`;
    if (p.protocol !== undefined && !PROTOCOLS.includes(String(p.protocol).toUpperCase())) {
      out.push(invalid(`${at}.protocol`, p.protocol, `must be one of ${PROTOCOLS.join(', ')}`));
    }
    for (const side of ['internal', 'external'] as const) {
      const port = (p as Record<string, { port?: unknown } | undefined>)[side]?.port;
      if (port !== undefined && !(Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535)) {
        out.push(invalid(`${at}.${side}.port`, port, 'must be a whole number from 1 to 65535'));
      }
    }
  });
}

function checkDocker(exe: DockerContainer, out: MessageItem[]): void {
  if (exe.privileged === true) out.push(notSupported('executable.privileged', 'DockerContainer - Privileged execution'));
  (exe.image?.locations ?? []).forEach((l, i) => {
    if (typeof l !== 'string' || l.length > 255 || !IMAGE_REF.test(l)) out.push(invalid(`executable.image.locations[${i}]`, l, 'must be an image reference such as registry.example.org/group/image:tag'));
  });
  const digest = exe.image?.digest;
  if (digest !== undefined && !DIGEST.test(digest)) out.push(invalid('executable.image.digest', digest, 'must be sha256: and 64 lower-case hex digits'));
  const env = Object.keys(exe.environment ?? {});
  if (env.length > LIMITS.env) out.push(invalid('executable.environment', env.length, `at most ${LIMITS.env} variables`));
  env.filter((k) => !ENV_NAME.test(k)).forEach((k) => out.push(invalid(`executable.environment.${k}`, k, 'a variable name is letters, digits and _, not starting with a digit')));
  if ((exe.command?.length ?? 0) > LIMITS.args) out.push(invalid('executable.command', exe.command!.length, `at most ${LIMITS.args} arguments`));
  checkPorts(exe, out);
}

/** A notebook is fetched like data: its location must be a URL the stager may fetch. */
function checkNotebook(exe: { location?: unknown }, egress: EgressPolicy, out: MessageItem[]): void {
  if (typeof exe.location !== 'string') return;
  try {
    checkUrlStatically(egress, exe.location);
  } catch (err) {
    if (err instanceof EgressRefused) out.push(invalid('executable.location', exe.location, `refused by the broker's egress policy: ${err.message}`));
    else throw err;
  }
}

function checkMounts(tree: RequestTree, out: MessageItem[]): void {
  const volumes = tree.compute?.volumes ?? [];
  if (volumes.length > LIMITS.volumes) out.push(invalid('compute.volumes', volumes.length, `at most ${LIMITS.volumes} volumes`));
  const seen = new Set<string>();
  volumes.forEach((v, i) => {
    if (typeof v.path !== 'string') return;
    const problem = mountPathProblem(v.path);
    if (problem) out.push(invalid(`compute.volumes[${i}].path`, v.path, problem));
    else if (seen.has(v.path)) out.push(invalid(`compute.volumes[${i}].path`, v.path, 'is mounted twice'));
    seen.add(v.path);
  });
}

function checkData(tree: RequestTree, egress: EgressPolicy, out: MessageItem[]): void {
  if (tree.data.length > LIMITS.data) out.push(invalid('data', tree.data.length, `at most ${LIMITS.data} data resources`));
  if (tree.storage.length > LIMITS.storage) out.push(invalid('storage', tree.storage.length, `at most ${LIMITS.storage} storage resources`));
  tree.data.forEach((d, i) => {
    if (d.kind !== Kinds.simpleData || typeof d.location !== 'string') return;
    try {
      checkUrlStatically(egress, d.location);
    } catch (err) {
      if (err instanceof EgressRefused) out.push(invalid(`data[${i}].location`, d.location, `refused by the broker's egress policy: ${err.message}`));
      else throw err;
    }
  });
}

function checkNames(tree: RequestTree, out: MessageItem[]): void {
  const named = [tree.executable, tree.compute, ...tree.storage, ...tree.data];
  named.forEach((c) => {
    const name = c?.meta?.name;
    if (typeof name === 'string' && name.length > LIMITS.name) out.push(invalid('meta.name', name, `at most ${LIMITS.name} characters`));
  });
}

export function checkSafety(tree: RequestTree, egress: EgressPolicy, sources: readonly DataSourceInfo[] = []): MessageItem[] {
  const out: MessageItem[] = [];
  out.push(...checkDataSources(tree, egress, sources));
  if (tree.executable?.kind === Kinds.dockerContainer) checkDocker(tree.executable as DockerContainer, out);
  if (tree.executable?.kind === Kinds.jupyterNotebook) checkNotebook(tree.executable as { location?: unknown }, egress, out);
  checkMounts(tree, out);
  checkData(tree, egress, out);
  checkNames(tree, out);
  return out;
}
