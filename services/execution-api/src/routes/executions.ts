import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { describeErrors, isTerminal, validateUpdate, type AbstractUpdate, type ExecutionPhase } from '@eb/schema';
import { findExecution, findExecutionRow, transitionExecution, type Db } from '@eb/db';
import { applyClientUpdate, renderExecution, type StepQueues } from '@eb/core';
import { HttpProblem, baseUrlOf, notFound, readBody, sendBody } from '@eb/http-kit';
import type { PhaseListener } from '../phases/listener.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_WAIT_SECONDS = 60;

export interface ExecutionDeps {
  db: Db;
  queues: StepQueues;
  listener: PhaseListener;
  logger: Logger;
}

function requestedWait(req: Request): number | undefined {
  const m = /(?:^|[,;\s])wait=(\d+)/.exec(req.get('prefer') ?? '');
  return m ? Math.min(Number(m[1]), MAX_WAIT_SECONDS) : undefined;
}

export function executionRoutes(deps: ExecutionDeps): Router {
  const router = Router();
  const { db } = deps;

  async function load(uuid: string) {
    if (!UUID.test(uuid)) throw notFound('execution', uuid);
    let record = await findExecution(db, uuid);
    if (!record) throw notFound('execution', uuid);
    // The workers' sweep expires offers too; doing it here means no client ever sees a stale OFFERED.
    if (record.execution.phase === 'OFFERED' && record.execution.expires.getTime() <= Date.now()) {
      await transitionExecution(db, uuid, 'OFFERED', 'EXPIRED', 'offer expired');
      record = (await findExecution(db, uuid))!;
    }
    return record;
  }

  const select = async (req: Request, res: Response) => {
    const uuid = String(req.params.uuid);
    let record = await load(uuid);
    const wait = requestedWait(req);
    if (wait !== undefined) {
      res.set('Preference-Applied', `wait=${wait}`);
      const phase = record.execution.phase as ExecutionPhase;
      if (wait > 0 && !isTerminal(phase)) {
        const aborted = new AbortController();
        req.on('close', () => aborted.abort());
        const deadline = Date.now() + wait * 1000;
        // Notifications can race the first read, so re-read after each one and compare phases.
        while (Date.now() < deadline && !aborted.signal.aborted) {
          await deps.listener.waitForChange(uuid, Math.min(deadline - Date.now(), 5000), aborted.signal);
          const now = await findExecutionRow(db, uuid);
          if (now && now.phase !== phase) break;
        }
        record = await load(uuid);
      }
    }
    sendBody(req, res, 200, renderExecution(record, baseUrlOf(req)));
  };

  const update = async (req: Request, res: Response) => {
    const uuid = String(req.params.uuid);
    if (!UUID.test(uuid)) throw notFound('execution', uuid);
    const checked = validateUpdate<AbstractUpdate>(req.body);
    if (!checked.ok) {
      throw new HttpProblem(400, 'Bad Request', `The update does not match AbstractUpdate: ${describeErrors(checked.errors)}`, { errors: checked.errors });
    }
    await load(uuid);
    const result = await applyClientUpdate(db, deps.queues, uuid, checked.value, deps.logger);
    if (result.outcome === 'not-found') throw notFound('execution', uuid);
    if (result.outcome === 'unprocessable') throw new HttpProblem(422, 'Unprocessable Content', result.detail);
    if (result.outcome === 'conflict') throw new HttpProblem(409, 'Conflict', result.detail, { phase: result.phase });
    sendBody(req, res, 200, renderExecution(await load(uuid), baseUrlOf(req)));
  };

  for (const base of ['/executions', '/sessions']) {
    router.get(`${base}/:uuid`, select);
    router.post(`${base}/:uuid`, readBody, update);
  }
  return router;
}
