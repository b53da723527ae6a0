import { Kinds, message, type DockerContainer, type MessageItem } from '@eb/schema';
import type { RequestTree } from './request-tree.js';
import { checkLabels } from './labels.js';
import { applyResourceLimits } from './limits.js';
import { checkPlatformFit } from './platform-fit.js';
import type { NamedAbilities } from './abilities.js';

const missing = (path: string) => message('urn:missing-value', 'ERROR', 'Missing value [{path}]', { path });
const unsupported = (path: string, kind: string, platform: string, others: readonly string[]) =>
  message('urn:not-supported', 'ERROR', 'The {platform} platform cannot handle [{path}] of kind [{kind}]; {others}', {
    path, kind, platform,
    others: others.length ? `platforms that can: ${others.join(', ')}` : 'no platform of this broker can yet',
  });

/** The platforms that can run or stage each kind (other than the one asked), for the NO's message. */
export type AbleTo = (kind: string) => readonly string[];

/**
 * Checks that need more than the schema: values the broker requires, references between components,
 * kinds and features the platform cannot run, sizes beyond the platform. ERROR messages make the offer
 * set `result: NO`; WARN ones (a maximum lowered to what the platform has) go with the offers.
 */
export function checkRequest(tree: RequestTree, platform: NamedAbilities, ableTo: AbleTo = () => []): MessageItem[] {
  const out: MessageItem[] = tree.invalid.map((i) =>
    message('urn:invalid-value', 'ERROR', 'Invalid value [{value}] for [{path}]: {reason}', i));
  const exe = tree.executable;
  if (!exe) {
    out.push(missing('executable'));
  } else {
    if (!platform.executableKinds.includes(exe.kind)) out.push(unsupported('executable', exe.kind, platform.name, ableTo(exe.kind)));
    if (exe.kind === Kinds.jupyterNotebook && typeof (exe as { location?: unknown }).location !== 'string') out.push(missing('executable.location'));
    if (exe.kind === Kinds.dockerContainer) {
      const image = (exe as DockerContainer).image;
      if (!image?.locations?.length) out.push(missing('executable.image.locations'));
      if (!image?.digest) out.push(missing('executable.image.digest'));
    }
  }
  tree.data.forEach((d, i) => {
    if (!platform.dataKinds.includes(d.kind)) out.push(unsupported(`data[${i}]`, d.kind, platform.name, ableTo(d.kind)));
    if (d.kind === Kinds.simpleData && !d.location) out.push(missing(`data[${i}].location`));
  });
  (tree.compute?.volumes ?? []).forEach((v, i) => {
    if (!v.path) out.push(missing(`compute.volumes[${i}].path`));
    if (!v.resource) out.push(missing(`compute.volumes[${i}].resource`));
  });
  out.push(...checkLabels(exe, platform.labels, platform.name));
  out.push(...checkPlatformFit(tree, platform));
  out.push(...applyResourceLimits(tree, platform.capacity));
  // References that name nothing (urn:resource-not-found) were found while linking.
  out.push(...tree.links.problems);
  return out;
}
