import { storeCredential, type Db } from '@eb/db';
import type { Sealer } from './seal.js';

export interface Bearer {
  subject: string;
  token: string;
  expiresAt?: number;
}

/**
 * Keeps the token given at acceptance (and a refresh token, if the client gave one) for the workers'
 * calls on the owner's behalf. Static tokens (no expiry, empty) are not kept: they are for local use.
 */
export async function keepCredential(db: Db, sealer: Sealer | undefined, executionUuid: string, who: Bearer, refreshToken?: string): Promise<boolean> {
  if (!sealer || !who.token || who.expiresAt === undefined) return false;
  await storeCredential(db, {
    executionUuid, subject: who.subject,
    accessToken: sealer.seal(who.token),
    refreshToken: refreshToken ? sealer.seal(refreshToken) : null,
    expiresAt: new Date(who.expiresAt),
  });
  return true;
}
