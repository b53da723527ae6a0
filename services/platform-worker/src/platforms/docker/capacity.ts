import type Docker from 'dockerode';

const GiB = 2 ** 30;

/**
 * What the engine has, as `docker info` reports it, times the overcommit factor
 * (EB_DOCKER_OVERCOMMIT, default 1: never promise more than the host has).
 */
export async function engineCapacity(docker: Docker, overcommit = Number(process.env.EB_DOCKER_OVERCOMMIT ?? 1)): Promise<{ cores: number; memoryGib: number }> {
  if (!(overcommit > 0)) throw new Error(`EB_DOCKER_OVERCOMMIT must be a positive number, not '${process.env.EB_DOCKER_OVERCOMMIT}'`);
  const info = await docker.info() as { NCPU?: number; MemTotal?: number };
  return {
    cores: Math.max(1, Math.floor((info.NCPU ?? 1) * overcommit)),
    memoryGib: Math.max(1, Math.floor(((info.MemTotal ?? GiB) / GiB) * overcommit)),
  };
}
