import { readFileSync } from 'node:fs';
import type { AuthSettings, StaticToken } from './verifier.js';

/**
 * Reads authentication settings: EB_OIDC_ISSUER (+ EB_OIDC_AUDIENCE, EB_OIDC_JWKS_URL) for JWTs,
 * EB_STATIC_TOKENS_FILE (JSON: {"<token>": {"subject": "...", "groups": [], "roles": []}}) for local
 * tokens, EB_ADMIN_ROLE (default eb-admin). EB_AUTH=none turns authentication off (development only).
 */
export function authSettingsFromEnv(): AuthSettings {
  const file = process.env.EB_STATIC_TOKENS_FILE;
  const tokens = file ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, StaticToken>) : {};
  return {
    ...(process.env.EB_OIDC_ISSUER ? { issuer: process.env.EB_OIDC_ISSUER } : {}),
    ...(process.env.EB_OIDC_AUDIENCE ? { audience: process.env.EB_OIDC_AUDIENCE } : {}),
    ...(process.env.EB_OIDC_JWKS_URL ? { jwksUrl: process.env.EB_OIDC_JWKS_URL } : {}),
    staticTokens: new Map(Object.entries(tokens)),
    adminRole: process.env.EB_ADMIN_ROLE ?? 'eb-admin',
    disabled: process.env.EB_AUTH === 'none',
  };
}
