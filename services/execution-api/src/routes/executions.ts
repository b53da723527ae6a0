import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { describeErrors, isTerminal, validateUpdate, type AbstractUpdate, type ExecutionPhase } from '@eb/schema';
import { findExecution, findExecutionRow, transitionExecution, type Db, type ExecutionRecord } from '@eb/db';
import { applyClientUpdate, canChangeSchedule, canRead, canonicalUpdatePath, canUpdate, keepCredential, renderExecution, type Sealer, type StepQueues } from '@eb/core';
import { HttpProblem, baseUrlOf, notFound, principalOf, readBody, requireAuth, sendBody, xmlBodyAs, type AuthSettings } from '@eb/http-kit';
import type { PhaseListener } from '../phases/listener.js';
import { LongPolls } from '../phases/long-polls.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_WAIT_SECONDS = 60;

export interface ExecutionDeps {
  db: Db;
  queues: StepQueues;
  listener: PhaseListener;
  logger: Logger;
  auth: AuthSettings;
  sealer?: Sealer;
  /** Caps on long-polls held open (per owner and in all); from the environment when not given. */
  longPolls?: LongPolls;
  /** Counts the phase changes clients ask for (ACCEPTED, REJECTED, CANCELLED). */
  onClientUpdate?: (phase: string) => void;
}

/** Changes with every execution phase change: clients long-poll relative to what they last saw. */
function etagOf(record: ExecutionRecord): string {
  const steps = record.history.filter((h) => h.component_uuid === null).length;
  return `"${record.execution.phase}-${steps}"`;
}

function requestedWait(req: Request): number | undefined {
  const m = /(?:^|[,;\s])wait=(\d+)/.exec(req.get('prefer') ?? '');
  return m ? Math.min(Number(m[1]), MAX_WAIT_SECONDS) : undefined;
}

export function executionRoutes(deps: ExecutionDeps): Router {
  const router = Router();
  const { db } = deps;
  const longPolls = deps.longPolls ?? new LongPolls();

  /** Waits (at most `wait` s) for the execution to leave `phase`; true if the wait was held. */
  async function holdUntilChange(req: Request, res: Response, uuid: string, phase: ExecutionPhase, wait: number): Promise<boolean> {
    const owner = principalOf(res).subject;
    const entry = longPolls.enter(owner);
    if (entry === 'owner-full') {
      throw new HttpProblem(429, 'Too Many Requests', `At most ${longPolls.perOwner} long-polls may be open at once for one user; answer again after the Retry-After delay, or wait on fewer executions.`, {}, undefined, { 'Retry-After': '5' });
    }
    // The process holds as many as it will: answer now rather than queue everyone behind the waiters.
    if (entry === 'full') return false;
    try {
      const aborted = new AbortController();
      req.on('close', () => aborted.abort());
      const deadline = Date.now() + wait * 1000;
      // Notifications can race the first read, so re-read after each one and compare phases.
      while (Date.now() < deadline && !aborted.signal.aborted) {
        await deps.listener.waitForChange(uuid, Math.min(deadline - Date.now(), 5000), aborted.signal);
        const now = await findExecutionRow(db, uuid);
        if (now && now.phase !== phase) break;
      }
      return true;
    } finally {
      longPolls.leave(owner);
    }
  }

  async function load(uuid: string, res: Response) {
    if (!UUID.test(uuid)) throw notFound('execution', uuid);
    let record = await findExecution(db, uuid);
    // Someone else's execution does not exist, as far as the caller can tell.
    if (!record || !canRead(principalOf(res), record.execution)) throw notFound('execution', uuid);
    // The workers' sweep expires offers too; doing it here means no client ever sees a stale OFFERED.
    if (record.execution.phase === 'OFFERED' && record.execution.expires.getTime() <= Date.now()) {
      await transitionExecution(db, uuid, 'OFFERED', 'EXPIRED', 'offer expired');
      record = (await findExecution(db, uuid))!;
    }
    return record;
  }

  const select = async (req: Request, res: Response) => {
    const uuid = String(req.params.uuid);
    let record = await load(uuid, res);
    const wait = requestedWait(req);
    if (wait !== undefined) {
      const phase = record.execution.phase as ExecutionPhase;
      // With If-None-Match, the wait is for a change from the representation the client already has.
      const seen = req.get('if-none-match');
      const alreadyNewer = seen !== undefined && seen !== etagOf(record);
      const held = wait > 0 && !isTerminal(phase) && !alreadyNewer ? await holdUntilChange(req, res, uuid, phase, wait) : true;
      if (held) res.set('Preference-Applied', `wait=${wait}`);
      if (wait > 0 && held) record = await load(uuid, res);
    }
    res.set('ETag', etagOf(record));
    sendBody(req, res, 200, renderExecution(record, baseUrlOf(req)), 'AbstractExecutionSession');
  };

  const update = async (req: Request, res: Response) => {
    const uuid = String(req.params.uuid);
    if (!UUID.test(uuid)) throw notFound('execution', uuid);
    const checked = validateUpdate<AbstractUpdate>(req.body);
    if (!checked.ok) {
      throw new HttpProblem(400, 'Bad Request', `The update does not match AbstractUpdate: ${describeErrors(checked.errors)}`, { errors: checked.errors });
    }
    const { execution } = await load(uuid, res);
    const caller = principalOf(res);
    const target = checked.value.kind === 'uri:enum-value-update' && canonicalUpdatePath(checked.value.path) === 'phase' ? checked.value.value : undefined;
    const allowed = target ? canUpdate(caller, execution, target as ExecutionPhase) : canChangeSchedule(caller, execution);
    if (!allowed) {
      throw new HttpProblem(403, 'Forbidden', caller.admin
        ? 'An administrator may cancel an execution, not change it otherwise.'
        : 'Only the owner may change this execution.');
    }
    const result = await applyClientUpdate(db, deps.queues, uuid, checked.value, deps.logger);
    if (result.outcome === 'not-found') throw notFound('execution', uuid);
    if (result.outcome === 'unprocessable') throw new HttpProblem(422, 'Unprocessable Content', result.detail);
    if (result.outcome === 'conflict') throw new HttpProblem(409, 'Conflict', result.detail, { phase: result.phase });
    if (target) deps.onClientUpdate?.(target);
    if (target === 'ACCEPTED') {
      // Kept for the work done on the owner's behalf until the execution ends.
      await keepCredential(db, deps.sealer, uuid, caller, req.get('x-refresh-token'));
    }
    sendBody(req, res, 200, renderExecution(await load(uuid, res), baseUrlOf(req)), 'AbstractExecutionSession');
  };

  const auth = requireAuth(deps.auth);
  for (const base of ['/executions', '/sessions']) {
    router.get(`${base}/:uuid`, auth, select);
    router.post(`${base}/:uuid`, auth, xmlBodyAs('AbstractUpdate'), readBody, update);
  }
  return router;
}
