import type { Response } from 'express';

/** Who is calling: the token's subject, its groups and roles, and the token itself (kept for work on their behalf). */
export interface Principal {
  subject: string;
  groups: string[];
  roles: string[];
  token: string;
  /** When the token stops being valid, in ms since the epoch; undefined for static tokens. */
  expiresAt?: number;
  admin: boolean;
}

export function principalOf(res: Response): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (!p) throw new Error('route is missing the authentication middleware');
  return p;
}
