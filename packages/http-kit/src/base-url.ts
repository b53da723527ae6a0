import type { Request } from 'express';

/** The broker's public base URL: configured, or as the client reached us (proxies' headers trusted). */
export function baseUrlOf(req: Request): string {
  const configured = process.env.EB_PUBLIC_URL;
  if (configured) return configured.replace(/\/$/, '');
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}
