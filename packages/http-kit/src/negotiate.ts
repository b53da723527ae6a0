import type { Request, Response } from 'express';
import yaml from 'js-yaml';

/** Sends a body as YAML when the client prefers it, JSON otherwise. */
export function sendBody(req: Request, res: Response, status: number, body: unknown): void {
  const preferred = req.accepts(['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml']);
  res.status(status).vary('Accept');
  if (preferred && preferred !== 'application/json') {
    res.type(preferred).send(yaml.dump(body, { noRefs: true, lineWidth: -1 }));
  } else {
    res.type('application/json').send(JSON.stringify(body));
  }
}
