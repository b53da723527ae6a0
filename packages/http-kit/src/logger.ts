import { pino, type Logger } from 'pino';

// Bearer tokens, refresh tokens and cookies are credentials: a log line must never carry one, whoever
// can read the logs. pino-http logs request and response headers, so those are censored by path.
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-refresh-token"]',
  'req.headers.cookie',
  'req.headers["x-skaha-registry-auth"]',
  'req.headers["x-rucio-auth-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'token', 'accessToken', 'refreshToken', 'access_token', 'refresh_token', 'password',
  '*.token', '*.accessToken', '*.refreshToken', '*.access_token', '*.refresh_token', '*.password',
];

export function createLogger(service: string): Logger {
  return pino({
    name: service,
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  });
}
