import { readFileSync } from 'node:fs';

/** Reads a request file (YAML or JSON: YAML covers both) as text, or standard input for "-". */
export function readRequestText(path: string): string {
  return readFileSync(path === '-' ? 0 : path, 'utf8');
}
