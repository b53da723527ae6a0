import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// tests/dist/support -> repository root
const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The notebook image (Debian's python3-nbclient, python3-ipykernel and jupyter-notebook on a Debian
 * base made by mmdebstrap), built by scripts/build-notebook-image.sh once per machine and recipe: the
 * script skips the build when the image's content tag exists. Returns the tag.
 */
export function ensureNotebookImage(): string {
  return execFileSync('bash', [`${root}scripts/build-notebook-image.sh`], { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
}
