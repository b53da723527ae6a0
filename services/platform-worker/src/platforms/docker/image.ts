import type Docker from 'dockerode';
import type { DockerContainer } from '@eb/schema';

/** `repo[:tag][@digest]` → `repo` (a registry port, `host:5000/x`, is kept). */
export const repositoryOf = (ref: string): string => ref.replace(/@.*$/, '').replace(/:[^/:]*$/, '');

/**
 * Finds the image a request named, by one of its `locations` and its digest: the local image must be
 * tagged with a repository the request lists (which the offer-set API checked against the allowlist)
 * and have the digest as its id or as a repository digest. An image id alone never selects an image:
 * that would run any image on the host, whatever the allowlist says. Pulls by `repo@digest` when allowed.
 */
export async function resolveImage(docker: Docker, exe: DockerContainer, pull: boolean): Promise<string> {
  const digest = exe.image?.digest ?? '';
  const locations = exe.image?.locations ?? [];
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error('the image digest must be sha256:<64 hex digits>');
  for (const location of locations) {
    const repo = repositoryOf(location);
    for (const ref of [location, `${repo}@${digest}`]) {
      const info = await docker.getImage(ref).inspect().catch(() => undefined);
      if (!info) continue;
      const named = [...(info.RepoTags ?? []), ...(info.RepoDigests ?? [])].some((t) => repositoryOf(t) === repo || repositoryOf(t) === `docker.io/library/${repo}` || repositoryOf(t) === `docker.io/${repo}`);
      const matches = info.Id === digest || (info.RepoDigests ?? []).some((d) => d === `${repo}@${digest}` || d.endsWith(`/${repo}@${digest}`));
      if (named && matches) return info.Id;
    }
  }
  if (!pull) throw new Error(`no image of ${locations.join(', ') || 'no location'} with digest ${digest} is on this engine, and pulling is off`);
  const errors: string[] = [];
  for (const location of locations) {
    const ref = `${repositoryOf(location)}@${digest}`;
    try {
      const stream = await docker.pull(ref);
      await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve())));
      return (await docker.getImage(ref).inspect()).Id;
    } catch (err) {
      errors.push(`${ref}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`the image is not on this engine and could not be pulled (${errors.join('; ') || 'no location given'})`);
}

/** The operator's own image (e.g. the notebook image): used by reference, pulled when absent and allowed. */
export async function configuredImage(docker: Docker, ref: string, pull: boolean): Promise<string> {
  const info = await docker.getImage(ref).inspect().catch(() => undefined);
  if (info) return info.Id;
  if (!pull) throw new Error(`the configured image ${ref} is not on this engine, and pulling is off`);
  const stream = await docker.pull(ref);
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve())));
  return (await docker.getImage(ref).inspect()).Id;
}
