import { Router, type Request, type Response } from 'express';
import { findExecutionRow, readOutput, type Db } from '@eb/db';
import { OUTPUT_STREAMS, canRead, outputPath, type OutputStreamName } from '@eb/core';
import { HttpProblem, notFound, principalOf, requireAuth, type AuthSettings } from '@eb/http-kit';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What an execution's executable printed, as the upstream session connectors serve it
 * (`{base}/sessions/{uuid}/docker/stdout-get`, text/plain), and a notebook's executed copy
 * (`{base}/sessions/{uuid}/jupyter/notebook-get`, application/x-ipynb+json): the last part of the stream, as it was
 * printed, for the owner and the groups they named as readers. `X-Output-Total-Bytes` says how much was
 * printed in all (the body is its end), `X-Output-Complete` whether more may come.
 */
export function outputRoutes(deps: { db: Db; auth: AuthSettings }): Router {
  const router = Router();
  const auth = requireAuth(deps.auth);

  const serve = (stream: OutputStreamName) => async (req: Request, res: Response) => {
    const uuid = String(req.params.uuid);
    if (!UUID.test(uuid)) throw notFound('execution', uuid);
    const e = await findExecutionRow(deps.db, uuid);
    if (!e || !canRead(principalOf(res), e)) throw notFound('execution', uuid);
    if (!e.outputs.includes(stream)) throw new HttpProblem(404, 'Not Found', `The platform of execution ${uuid} gives back no ${stream}.`);
    const out = await readOutput(deps.db, uuid, stream);
    res.status(200).set({
      // The executed notebook is a file to save and open in Jupyter, not text to show.
      ...(stream === 'notebook'
        ? { 'Content-Type': 'application/x-ipynb+json', 'Content-Disposition': `attachment; filename="${uuid}.ipynb"`, 'X-Content-Type-Options': 'nosniff' }
        : { 'Content-Type': 'text/plain; charset=utf-8' }),
      'Cache-Control': 'no-store',
      'X-Output-Total-Bytes': String(out?.totalBytes ?? 0),
      'X-Output-Complete': String(out?.final ?? false),
    }).send(out?.content ?? Buffer.alloc(0));
  };

  for (const base of ['/executions', '/sessions']) {
    for (const stream of OUTPUT_STREAMS) router.get(`${base}/:uuid/${outputPath(stream)}`, auth, serve(stream));
  }
  return router;
}
