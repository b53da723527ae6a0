import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rm, truncate } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `loop`: a sized ext4 filesystem per storage component; `dir`: a plain directory (no size limit). */
export type StorageMode = 'loop' | 'dir';

/** Loop mounts need root and mkfs.ext4; elsewhere storage falls back to plain directories. */
export async function detectStorageMode(): Promise<StorageMode> {
  if (process.getuid?.() !== 0) return 'dir';
  return run('mkfs.ext4', ['-V']).then(() => 'loop' as const, () => 'dir' as const);
}

async function isMounted(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[1] === path);
}

/**
 * Makes the storage at `path`: with `loop`, a sparse image of `sizeGib` formatted ext4 and mounted
 * there, so what the container writes cannot exceed what was booked. Safe to call again.
 */
export async function createStorage(path: string, sizeGib: number, mode: StorageMode): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o755 });
  if (mode === 'dir' || (await isMounted(path))) return;
  const image = `${path}.img`;
  await rm(image, { force: true });
  await run('touch', [image]);
  await truncate(image, sizeGib * 2 ** 30);
  await run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
  await run('mount', ['-o', 'loop', image, path]);
  // Containers may run as any user: the booked space is theirs.
  await chmod(path, 0o777);
}

/** Unmounts and removes the storage; false while it is still busy (a writer has it open). */
export async function removeStorage(path: string): Promise<boolean> {
  if (await isMounted(path)) {
    const busy = await run('umount', [path]).then(() => false, (err: Error) => /busy/i.test(err.message));
    if (busy) return false;
    if (await isMounted(path)) throw new Error(`could not unmount ${path}`);
  }
  await rm(`${path}.img`, { force: true });
  await rm(path, { recursive: true, force: true });
  return true;
}
