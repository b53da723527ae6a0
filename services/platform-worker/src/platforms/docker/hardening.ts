import type Docker from 'dockerode';
import type { DockerSettings } from './config.js';

type HostConfig = NonNullable<Docker.ContainerCreateOptions['HostConfig']>;

// Places programs commonly write to besides their mounted storage.
const SCRATCH = ['/tmp', '/var/tmp', '/run'];

/**
 * What every user container gets whatever it asks: no new privileges (setuid binaries do not elevate),
 * all capabilities dropped but a small set, a process limit, and a bounded filesystem to write to.
 * Never privileged: such requests are refused when offers are made.
 */
export function hardenedHostConfig(s: DockerSettings): Partial<HostConfig> {
  const scratch = `rw,nosuid,nodev,size=${s.scratchMib}m`;
  return {
    Privileged: false,
    SecurityOpt: ['no-new-privileges:true'],
    CapDrop: ['ALL'],
    CapAdd: s.capAdd,
    PidsLimit: s.pidsLimit,
    IpcMode: 'private',
    ...(s.rootfs === 'readonly' ? { ReadonlyRootfs: true, Tmpfs: Object.fromEntries(SCRATCH.map((p) => [p, scratch])) } : {}),
    ...(s.rootfs === 'sized' ? { StorageOpt: { size: `${s.scratchMib}M` } } : {}),
  };
}
