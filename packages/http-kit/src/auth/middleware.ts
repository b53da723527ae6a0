import type { RequestHandler } from 'express';
import { HttpProblem, sendProblem } from '../problem.js';
import { AuthError, createVerifier, type AuthSettings } from './verifier.js';
import type { Principal } from './principal.js';

const REALM = 'execution-broker';
const anonymous: Principal = { subject: 'anonymous', groups: [], roles: [], token: '', admin: false };

/**
 * Requires a valid bearer token and puts the caller in `res.locals.principal`. Missing or bad tokens get
 * a 401 problem with a WWW-Authenticate challenge (RFC 6750).
 */
export function requireAuth(settings: AuthSettings): RequestHandler {
  const verify = createVerifier(settings);
  return async (req, res, next) => {
    if (settings.disabled) {
      res.locals.principal = anonymous;
      return next();
    }
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) {
      return sendProblem(res, new HttpProblem(401, 'Unauthorized', 'A bearer token is required.'), req.originalUrl,
        { 'WWW-Authenticate': `Bearer realm="${REALM}"` });
    }
    try {
      res.locals.principal = await verify(m[1]!);
      next();
    } catch (err) {
      const reason = err instanceof AuthError ? err.message : 'the token could not be checked';
      sendProblem(res, new HttpProblem(401, 'Unauthorized', `The bearer token was refused: ${reason}.`), req.originalUrl,
        { 'WWW-Authenticate': `Bearer realm="${REALM}", error="invalid_token", error_description="${reason.replace(/"/g, "'")}"` });
    }
  };
}
