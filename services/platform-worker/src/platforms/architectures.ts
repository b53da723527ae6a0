/** CPU architectures a real platform's nodes run (EB_PLATFORM_ARCHITECTURES, comma separated; default amd64). */
export function nodeArchitectures(): string[] {
  return (process.env.EB_PLATFORM_ARCHITECTURES ?? 'amd64').split(',').map((a) => a.trim().toLowerCase()).filter(Boolean);
}
