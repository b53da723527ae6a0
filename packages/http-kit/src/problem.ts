import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';

// RFC 9457 problem details. `type` URIs are relative to the broker's documentation.
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
    readonly type = `urn:eb:problem:${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
    /** Headers the answer carries with the problem (e.g. Retry-After on a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }

  toJSON(instance?: string): Problem {
    return {
      type: this.type, title: this.title, status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

export const notFound = (what: string, id: string) => new HttpProblem(404, 'Not Found', `No ${what} with uuid ${id}`);

export function sendProblem(res: Response, problem: HttpProblem, instance?: string, headers: Record<string, string> = {}): void {
  res.status(problem.status).set(headers).type('application/problem+json').send(JSON.stringify(problem.toJSON(instance)));
}

/** Last middleware: every error leaves as a problem document; unexpected ones are logged, not leaked. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof HttpProblem) return sendProblem(res, err, req.originalUrl, err.headers);
    const status = typeof err?.status === 'number' ? err.status : typeof err?.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      // body-parser and express errors (too large, bad encoding, bad JSON).
      return sendProblem(res, new HttpProblem(status, status === 413 ? 'Payload Too Large' : 'Bad Request', err.message), req.originalUrl);
    }
    logger.error({ err, url: req.originalUrl }, 'unhandled error');
    sendProblem(res, new HttpProblem(500, 'Internal Server Error', 'The broker could not handle this request.'), req.originalUrl);
  };
}
