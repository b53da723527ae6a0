import express, { type RequestHandler } from 'express';
import yaml from 'js-yaml';
import { HttpProblem } from './problem.js';
import { checkBodyShape } from './body-limits.js';
import { XML_TYPES, isXmlType, parseXmlBody } from './xml/index.js';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
const JSON_TYPES = ['application/json', 'application/*+json'];

// Requests are documents of a few KiB; the cap keeps a hostile body from costing memory or time.
const MAX_BODY_BYTES = Number(process.env.EB_MAX_BODY_BYTES ?? 256 * 1024);
const rawText = express.text({ type: [...YAML_TYPES, ...JSON_TYPES, ...XML_TYPES, 'application/*+xml'], limit: MAX_BODY_BYTES });

/**
 * Reads a JSON, YAML or XML request body into `req.body`. Anything else is 415; text that does not parse
 * is 400 with the parser's own message (which names the line for YAML); a body over the size cap is
 * 413; aliases, deep nesting, too many values and unstorable characters are 400 (see body-limits).
 */
export const readBody: RequestHandler = (req, res, next) => {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!req.headers['content-length'] && !req.headers['transfer-encoding']) {
    return next(new HttpProblem(400, 'Bad Request', 'A request body is required.'));
  }
  const isYaml = YAML_TYPES.includes(type);
  const isJson = type === 'application/json' || type.endsWith('+json');
  // XML needs to know the schema it is read as; routes that take it say which (xmlBodyAs).
  const xmlSchema = isXmlType(type) ? (res.locals.xmlSchema as string | undefined) : undefined;
  if (!isYaml && !isJson && !xmlSchema) {
    return next(new HttpProblem(415, 'Unsupported Media Type', `Send application/json, application/yaml or application/xml, not '${type || 'nothing'}'.`));
  }
  rawText(req, res, (err?: unknown) => {
    if (err) return next(err);
    const text = typeof req.body === 'string' ? req.body : '';
    if (text.trim() === '') return next(new HttpProblem(400, 'Bad Request', 'The request body is empty.'));
    let parsed: unknown;
    try {
      parsed = xmlSchema ? parseXmlBody(text, xmlSchema) : isYaml ? yaml.load(text, { schema: yaml.JSON_SCHEMA }) : JSON.parse(text);
    } catch (e) {
      if (e instanceof HttpProblem) return next(e);
      const what = xmlSchema ? 'XML' : isYaml ? 'YAML' : 'JSON';
      // A stack overflow from absurd nesting is the client's bytes too: still a 400.
      return next(new HttpProblem(400, 'Bad Request', `The body is not valid ${what}: ${(e as Error).message.split('\n')[0]}`));
    }
    try {
      checkBodyShape(parsed);
    } catch (e) {
      return next(e);
    }
    req.body = parsed;
    next();
  });
};
