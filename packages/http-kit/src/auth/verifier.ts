import { createRemoteJWKSet, jwtVerify, errors, type JWTPayload } from 'jose';
import type { Principal } from './principal.js';

export interface StaticToken {
  subject: string;
  groups?: string[];
  roles?: string[];
}

export interface AuthSettings {
  /** OIDC issuer whose JWKS signs the tokens; JWTs are refused when unset. */
  issuer?: string;
  audience?: string;
  /** JWKS URL; defaults to the issuer's `/.well-known/jwks.json`... as discovered below. */
  jwksUrl?: string;
  /** Opaque tokens for local use, mapped to who they stand for. */
  staticTokens: Map<string, StaticToken>;
  adminRole: string;
  /** Development only: every request is the anonymous owner. */
  disabled: boolean;
}

export class AuthError extends Error {}

function listClaim(payload: JWTPayload, ...paths: string[][]): string[] {
  for (const path of paths) {
    let v: unknown = payload;
    for (const key of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
    if (typeof v === 'string') return v.split(/[\s,]+/).filter(Boolean);
  }
  return [];
}

export type Verify = (token: string) => Promise<Principal>;

/**
 * Checks bearer tokens: a static token from configuration, or an OIDC JWT signed by the issuer's keys
 * (fetched from its JWKS and cached by jose), with the right issuer, audience and lifetime.
 */
export function createVerifier(s: AuthSettings): Verify {
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  const keys = async () => {
    if (jwks) return jwks;
    let url = s.jwksUrl;
    if (!url) {
      const discovery = await fetch(`${s.issuer!.replace(/\/$/, '')}/.well-known/openid-configuration`);
      if (!discovery.ok) throw new AuthError(`cannot discover the issuer's keys (HTTP ${discovery.status})`);
      url = ((await discovery.json()) as { jwks_uri: string }).jwks_uri;
    }
    jwks = createRemoteJWKSet(new URL(url));
    return jwks;
  };
  return async (token) => {
    const known = s.staticTokens.get(token);
    if (known) {
      const roles = known.roles ?? [];
      return { subject: known.subject, groups: known.groups ?? [], roles, token, admin: roles.includes(s.adminRole) };
    }
    if (!s.issuer) throw new AuthError('unknown token');
    try {
      const { payload } = await jwtVerify(token, await keys(), { issuer: s.issuer, ...(s.audience ? { audience: s.audience } : {}) });
      if (!payload.sub) throw new AuthError('the token has no subject');
      const roles = listClaim(payload, ['roles'], ['realm_access', 'roles'], ['scope']);
      return {
        subject: payload.sub, groups: listClaim(payload, ['groups']), roles, token,
        ...(payload.exp ? { expiresAt: payload.exp * 1000 } : {}),
        admin: roles.includes(s.adminRole),
      };
    } catch (err) {
      if (err instanceof AuthError) throw err;
      if (err instanceof errors.JWTExpired) throw new AuthError('the token has expired');
      if (err instanceof errors.JWTClaimValidationFailed) throw new AuthError(`the token's ${err.claim} claim is not accepted`);
      throw new AuthError('the token is not valid');
    }
  };
}
