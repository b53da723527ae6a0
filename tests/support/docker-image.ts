import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_IMAGE = 'eb-test/busybox:1';

/**
 * No registry is reachable here, so tests make their image: a root filesystem holding Debian's static
 * busybox and its applets, imported with `docker import`. Returns the image id (a sha256 digest).
 */
export function ensureTestImage(): string {
  const existing = execFileSync('docker', ['images', '-q', '--no-trunc', TEST_IMAGE]).toString().trim();
  if (existing) return existing;
  const root = mkdtempSync(join(tmpdir(), 'eb-rootfs-'));
  try {
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'tmp'));
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    const applets = execFileSync('/bin/busybox', ['--list']).toString().split('\n').filter((a) => a && a !== 'busybox');
    for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
    execFileSync('bash', ['-c', `tar -C '${root}' -c . | docker import -c 'ENV PATH=/bin' - ${TEST_IMAGE} >/dev/null`]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return execFileSync('docker', ['images', '-q', '--no-trunc', TEST_IMAGE]).toString().trim();
}
