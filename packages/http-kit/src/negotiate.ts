import type { Request, Response } from 'express';
import yaml from 'js-yaml';
import { writeXml } from './xml/index.js';

/**
 * Sends a body as YAML or XML when the client prefers it, JSON otherwise. XML is offered when the
 * caller names the schema the body is (its `xml` names shape the document).
 */
export function sendBody(req: Request, res: Response, status: number, body: unknown, xmlSchema?: string): void {
  const types = ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', ...(xmlSchema ? ['application/xml', 'text/xml'] : [])];
  const preferred = req.accepts(types);
  res.status(status).vary('Accept');
  if (xmlSchema && (preferred === 'application/xml' || preferred === 'text/xml')) {
    res.type(preferred).send(writeXml(body, xmlSchema));
  } else if (preferred && preferred !== 'application/json') {
    res.type(preferred).send(yaml.dump(body, { noRefs: true, lineWidth: -1 }));
  } else {
    res.type('application/json').send(JSON.stringify(body));
  }
}
