import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envInt } from '@eb/core';

export interface DockerSettings {
  socketPath: string;
  /** Host directory under which storage and staged data live (bind-mounted into containers). */
  dataDir: string;
  /** Address published ports bind to, and the host named in access URLs. */
  bindIp: string;
  publicHost: string;
  pull: boolean;
  allowPrivileged: boolean;
  downloadAttempts: number;
  /** The engine's log driver for containers (default `local`, which keeps output byte for byte). */
  logDriver?: string;
  /** How storage is made: sized loop-mounted filesystems, or plain directories; detected when unset. */
  storage?: 'loop' | 'dir';
}

export function dockerSettings(): DockerSettings {
  const bindIp = process.env.EB_DOCKER_BIND_IP ?? '127.0.0.1';
  return {
    socketPath: process.env.EB_DOCKER_SOCKET ?? '/var/run/docker.sock',
    dataDir: process.env.EB_DOCKER_DATA_DIR ?? join(tmpdir(), 'eb-docker'),
    bindIp,
    publicHost: process.env.EB_DOCKER_PUBLIC_HOST ?? bindIp,
    pull: process.env.EB_DOCKER_PULL !== 'false',
    allowPrivileged: process.env.EB_DOCKER_ALLOW_PRIVILEGED === 'true',
    downloadAttempts: envInt('EB_DOWNLOAD_ATTEMPTS', 4),
    ...(process.env.EB_DOCKER_LOG_DRIVER ? { logDriver: process.env.EB_DOCKER_LOG_DRIVER } : {}),
    ...(process.env.EB_DOCKER_STORAGE === 'loop' || process.env.EB_DOCKER_STORAGE === 'dir' ? { storage: process.env.EB_DOCKER_STORAGE } : {}),
  };
}
