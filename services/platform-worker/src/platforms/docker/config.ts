import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envInt } from '@eb/core';
import { stagingSettings, type StagingSettings } from '../../staging/settings.js';

/**
 * `readonly`: the image's filesystem cannot be written; /tmp, /var/tmp and /run are sized tmpfs.
 * `sized`: writable, bounded by the storage driver (StorageOpt size; needs overlay2 on xfs with pquota).
 * `writable`: writable and unbounded (only for engines where the operator bounds disk otherwise).
 */
export type RootfsMode = 'readonly' | 'sized' | 'writable';

/**
 * `public`: the internet only (the host, private and link-local networks dropped by iptables rules);
 * `none`: no network beyond the execution's own; `open`: anything but the host itself.
 */
export type ContainerEgress = 'public' | 'none' | 'open';

export interface DockerSettings {
  socketPath: string;
  /** Host directory under which storage and staged data live (bind-mounted into containers). */
  dataDir: string;
  /** Address published ports bind to, and the host named in access URLs. */
  bindIp: string;
  publicHost: string;
  pull: boolean;
  /** The engine's log driver for containers (default `local`, which keeps output byte for byte). */
  logDriver?: string;
  /** How storage is made: sized loop-mounted filesystems, or plain directories; detected when unset. */
  storage?: 'loop' | 'dir';
  /** Where the stager may fetch data from, the configured data sources, attempts. */
  staging: StagingSettings;
  /** Processes a container may have at once. */
  pidsLimit: number;
  /** Capabilities kept after dropping all (Docker's names without CAP_). */
  capAdd: string[];
  rootfs: RootfsMode;
  /** Size of each tmpfs (readonly rootfs) or of the writable layer (sized), in MiB. */
  scratchMib: number;
  containerEgress: ContainerEgress;
  /** Whether the worker installs the iptables rules that keep containers off the host and private networks. */
  firewall: boolean;
  /** Networks made ahead of the executions that will each get one (0: each is made when needed). */
  spareNetworks: number;
  /** The image JupyterNotebook executables run in (Python with nbclient, ipykernel, Jupyter Notebook); none, no notebooks. */
  notebookImage?: string;
}

// Enough for a process that changes user or owns files it creates, binds low ports, signals its children.
const DEFAULT_CAPS = 'CHOWN,DAC_OVERRIDE,FOWNER,SETUID,SETGID,NET_BIND_SERVICE,KILL';

const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`${name} must be one of ${allowed.join(', ')}, not '${v}'`);
  return v as T;
};

export function dockerSettings(): DockerSettings {
  const bindIp = process.env.EB_DOCKER_BIND_IP ?? '127.0.0.1';
  return {
    socketPath: process.env.EB_DOCKER_SOCKET ?? '/var/run/docker.sock',
    dataDir: process.env.EB_DOCKER_DATA_DIR ?? join(tmpdir(), 'eb-docker'),
    bindIp,
    publicHost: process.env.EB_DOCKER_PUBLIC_HOST ?? bindIp,
    pull: process.env.EB_DOCKER_PULL !== 'false',
    ...(process.env.EB_DOCKER_LOG_DRIVER ? { logDriver: process.env.EB_DOCKER_LOG_DRIVER } : {}),
    ...(process.env.EB_DOCKER_STORAGE === 'loop' || process.env.EB_DOCKER_STORAGE === 'dir' ? { storage: process.env.EB_DOCKER_STORAGE } : {}),
    staging: stagingSettings(),
    pidsLimit: envInt('EB_DOCKER_PIDS_LIMIT', 512),
    capAdd: (process.env.EB_DOCKER_CAPS ?? DEFAULT_CAPS).split(',').map((c) => c.trim().toUpperCase()).filter(Boolean),
    rootfs: oneOf('EB_DOCKER_ROOTFS', ['readonly', 'sized', 'writable'], 'readonly'),
    scratchMib: envInt('EB_DOCKER_SCRATCH_MIB', 512),
    containerEgress: oneOf('EB_DOCKER_EGRESS', ['public', 'none', 'open'], 'public'),
    firewall: process.env.EB_DOCKER_FIREWALL !== 'false',
    spareNetworks: envInt('EB_DOCKER_SPARE_NETWORKS', 1),
    ...(process.env.EB_NOTEBOOK_IMAGE ? { notebookImage: process.env.EB_NOTEBOOK_IMAGE } : {}),
  };
}
