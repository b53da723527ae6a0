import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type KeyLike } from 'jose';

export interface StaticTokenSpec {
  subject: string;
  groups?: string[];
  roles?: string[];
}

/** Writes a static token file (EB_STATIC_TOKENS_FILE) and returns its path. */
export function writeStaticTokens(tokens: Record<string, StaticTokenSpec>): string {
  const file = join(tmpdir(), `eb-tokens-${randomUUID()}.json`);
  writeFileSync(file, JSON.stringify(tokens), { mode: 0o600 });
  return file;
}

export const credentialsKey = (): string => randomBytes(32).toString('base64');

export interface TestIssuer {
  url: string;
  audience: string;
  sign(claims: Record<string, unknown>, opts?: { expiresInS?: number; issuer?: string; audience?: string; key?: 'own' | 'other' }): Promise<string>;
  /** A refresh token the token endpoint will honour, for this subject. */
  refreshTokenFor(subject: string, claims?: Record<string, unknown>): string;
  refreshCalls: number;
  close(): Promise<void>;
}

/**
 * A small OIDC issuer for tests: discovery document, JWKS and a token endpoint answering the
 * refresh_token grant, signing RS256 JWTs as a real issuer does.
 */
export async function startIssuer(accessLifetimeS = 60): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const refresh = new Map<string, { subject: string; claims: Record<string, unknown> }>();
  let url = '';
  const audience = 'execution-broker';
  const signWith = (key: KeyLike, claims: Record<string, unknown>, expiresInS: number, issuer: string, aud: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).setIssuedAt().setIssuer(issuer).setAudience(aud)
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInS).sign(key);
  const issuer: TestIssuer = {
    url: '', audience, refreshCalls: 0,
    sign: (claims, o = {}) => signWith(o.key === 'other' ? other.privateKey : privateKey, claims, o.expiresInS ?? accessLifetimeS, o.issuer ?? url, o.audience ?? audience),
    refreshTokenFor(subject, claims = {}) {
      const t = `rt-${randomUUID()}`;
      refresh.set(t, { subject, claims });
      return t;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server: Server = createServer(async (req, res) => {
    const json = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (req.url === '/.well-known/openid-configuration') return json(200, { issuer: url, jwks_uri: `${url}/jwks`, token_endpoint: `${url}/token` });
    if (req.url === '/jwks') return json(200, { keys: [jwk] });
    if (req.url === '/token' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = new URLSearchParams(body);
      const known = refresh.get(form.get('refresh_token') ?? '');
      if (form.get('grant_type') !== 'refresh_token' || !known) return json(400, { error: 'invalid_grant' });
      issuer.refreshCalls += 1;
      const access = await signWith(privateKey, { sub: known.subject, ...known.claims }, accessLifetimeS, url, audience);
      return json(200, { access_token: access, token_type: 'Bearer', expires_in: accessLifetimeS });
    }
    json(404, { error: 'not_found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer.url = url;
  return issuer;
}
