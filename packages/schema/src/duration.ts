// ISO 8601 durations and instants, as the spec's patterns allow them.

const DURATION = /^(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Milliseconds in an ISO 8601 duration; years and months are taken as 365 and 30 days. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const n = (s: string | undefined) => (s ? Number(s) : 0);
  const days = n(m[2]) * 365 + n(m[3]) * 30 + n(m[4]) * (m[5] === 'W' ? 7 : 1);
  const seconds = days * 86400 + n(m[6]) * 3600 + n(m[7]) * 60 + n(m[8]);
  return (m[1] === '-' ? -1 : 1) * Math.round(seconds * 1000);
}

/** The shortest ISO 8601 duration for a number of milliseconds (whole seconds, no days). */
export function formatDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h === 0 && m === 0) return `PT${s}S`;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s ? `${s}S` : ''}`;
}

/** An instant without milliseconds, as the spec's examples show them. */
export function formatInstant(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export interface TimeInterval {
  start: number;
  end: number;
}

/**
 * Parses an ISO 8601 interval (`start/end`, `start/duration`, `duration/end`).
 * A date without a time means midnight UTC.
 */
export function parseInterval(text: string): TimeInterval | undefined {
  const parts = text.split('/');
  if (parts.length !== 2) return undefined;
  const [a, b] = parts as [string, string];
  const instant = (s: string) => {
    if (s.startsWith('P')) return undefined;
    const ms = Date.parse(/T/.test(s) || s.length > 10 ? s : `${s}T00:00:00Z`);
    return Number.isNaN(ms) ? undefined : ms;
  };
  const sa = instant(a);
  const sb = instant(b);
  if (sa !== undefined && sb !== undefined) return sb >= sa ? { start: sa, end: sb } : undefined;
  if (sa !== undefined) {
    const d = parseDuration(b);
    return d === undefined || d < 0 ? undefined : { start: sa, end: sa + d };
  }
  if (sb !== undefined) {
    const d = parseDuration(a);
    return d === undefined || d < 0 ? undefined : { start: sb - d, end: sb };
  }
  return undefined;
}
