import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { describeErrors, message, validateExecutionRequest, type ExecutionRequest, type MessageItem } from '@eb/schema';
import { expireOldestOpenOffers, findExecutions, findOfferSet, ownerUsage, planAndInsertOfferSet, type Db, type NewOfferSet } from '@eb/db';
import { acceptOffer, canRead, egressPolicy, envInt, keepCredential, renderExecution, renderOfferSet, type Sealer, type StepQueues } from '@eb/core';
import { HttpProblem, baseUrlOf, notFound, principalOf, readBody, requireAuth, sendBody, xmlBodyAs, type AuthSettings } from '@eb/http-kit';
import { buildRequestTree } from '../offers/request-tree.js';
import { checkRequest } from '../offers/check.js';
import { checkSafety } from '../offers/safety.js';
import { takeUnknownKinds } from '../offers/unknown-kinds.js';
import { buildOfferSet } from '../offers/build.js';
import { abilitiesReader, type NamedAbilities } from '../offers/abilities.js';
import { DEFAULT_STAGING, stagingMs } from '../offers/staging-time.js';
import type { OffersetApiConfig } from '../config.js';
import type { OfferMetrics } from '../metrics.js';
import { applyPolicies, type Policy } from '../policies/policy.js';

// The calendar is read for its first hour (or as far as the offers' alternative starts reach) first,
// and for the whole horizon only if that was not enough.
const FIRST_HORIZON_MS = 3_600_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface OffersetDeps {
  db: Db;
  queues: StepQueues;
  config: OffersetApiConfig;
  logger: Logger;
  metrics: OfferMetrics;
  policies: readonly Policy[];
  auth: AuthSettings;
  sealer?: Sealer;
}

/** Groups the requester grants read access to: an `access.readers` list beside the spec's fields. */
function readersOf(request: unknown): string[] {
  const readers = (request as { access?: { readers?: unknown } }).access?.readers;
  return Array.isArray(readers) ? readers.filter((r): r is string => typeof r === 'string') : [];
}

function wantsRepresentation(req: Request): boolean {
  return /(^|[,;\s])return=representation\b/.test(req.get('prefer') ?? '');
}

export function offersetRoutes(deps: OffersetDeps): Router {
  const router = Router();
  const { db, config } = deps;
  const egress = config.egress ?? egressPolicy();
  // How many offer sets with live offers one owner may hold at once (each holds capacity until it expires).
  const maxOpenOfferSets = Math.max(1, config.offers.maxOpenOfferSetsPerOwner ?? envInt('EB_MAX_OPEN_OFFERSETS_PER_OWNER', 32));
  const abilities = abilitiesReader(db, config.abilitiesTtlMs);

  /** What the request asks that the platform cannot do, naming the platforms that could. */
  async function platformProblems(tree: ReturnType<typeof buildRequestTree>, platform: NamedAbilities | undefined): Promise<MessageItem[]> {
    if (!platform) {
      return [message('urn:platform-unavailable', 'ERROR', 'No worker of the platform [{platform}] has declared what it can run yet', { platform: config.platform.name })];
    }
    const kinds = [tree.executable?.kind, ...tree.data.map((d) => d.kind)].filter((k): k is string => typeof k === 'string');
    const able = new Map(await Promise.all(kinds.map(async (k) => [k, (await abilities.ableTo(k)).filter((n) => n !== platform.name)] as const)));
    return [...checkRequest(tree, platform, (k) => able.get(k) ?? []), ...checkSafety(tree, egress, platform.sources)];
  }

  async function createOfferSet(req: Request, res: Response): Promise<NewOfferSet> {
    // Components of kinds the spec does not know are answered NO (uri:unknown-type), not 400.
    const unknownKinds = takeUnknownKinds(req.body);
    const checked = validateExecutionRequest<ExecutionRequest>(req.body);
    if (!checked.ok) {
      throw new HttpProblem(400, 'Bad Request', `The request does not match ExecutionRequest: ${describeErrors(checked.errors)}`, { errors: checked.errors });
    }
    const tree = buildRequestTree(checked.value, config.defaults);
    const owner = principalOf(res).subject;
    const readers = readersOf(checked.value);
    const platform = await abilities.of(config.platform.name);
    const problems = [...unknownKinds, ...await platformProblems(tree, platform)];
    const refused = () => problems.some((m) => m.level === 'ERROR');
    if (!refused()) {
      problems.push(...await applyPolicies(deps.policies, tree, { owner, usage: () => ownerUsage(db, owner) }));
    }
    // The new set counts too: the owner's older open sets beyond the cap give back their holds first.
    if (!refused()) await expireOldestOpenOffers(db, owner, maxOpenOfferSets - 1);
    const started = performance.now();
    // Data from a remote source moves the start later rather than overrunning the preparation.
    const prepareMs = config.offers.prepareMs + (refused() ? 0 : await stagingMs(db, tree.data, platform?.sources ?? [], config.staging ?? DEFAULT_STAGING));
    const span = prepareMs + tree.durationMs + config.offers.releaseMs;
    const full = config.offers.horizonMs;
    const first = Math.max(FIRST_HORIZON_MS, config.offers.maxOffers * config.offers.slotMs);
    const horizons = [...new Set([Math.min(first, full), full])].map((h) => h + span);
    const offerSettings = { ...config.offers, prepareMs, outputs: platform?.outputs ?? [] };
    const set = await planAndInsertOfferSet(db, config.platform.name, horizons, (ctx, last) => {
      const settings = ctx ? { ...offerSettings, horizonMs: ctx.horizonMs - span } : offerSettings;
      const planned = buildOfferSet(tree, checked.value, { owner, readers }, problems, ctx, settings);
      const couldFindMore = !refused() && planned.offers.length < settings.maxOffers;
      return !last && couldFindMore ? undefined : planned;
    }, () => deps.metrics.planConflicts.inc());
    deps.metrics.planSeconds.observe((performance.now() - started) / 1000);
    deps.metrics.offerSets.inc({ result: set.result });
    deps.metrics.offers.inc(set.offers.length);
    return set;
  }

  async function sendOfferSet(req: Request, res: Response, uuid: string, status: number) {
    const set = await findOfferSet(db, uuid);
    // Someone else's offer set does not exist, as far as the caller can tell.
    if (!set || !canRead(principalOf(res), set)) throw notFound('offer set', uuid);
    const offers = await findExecutions(db, set.executionUuids);
    sendBody(req, res, status, renderOfferSet(set, offers, baseUrlOf(req)), 'OfferSetResponse');
  }

  const create = async (req: Request, res: Response) => {
    const set = await createOfferSet(req, res);
    const location = `${baseUrlOf(req)}/offersets/${set.uuid}`;
    res.location(location);
    if (wantsRepresentation(req)) {
      res.set('Preference-Applied', 'return=representation');
      return sendOfferSet(req, res, set.uuid, 200);
    }
    res.status(303).end();
  };
  const auth = requireAuth(deps.auth);
  const asRequest = xmlBodyAs('ExecutionRequest');
  router.post('/offersets', auth, asRequest, readBody, create);
  router.post('/requests', auth, asRequest, readBody, create);

  router.get('/offersets/:uuid', auth, async (req, res) => {
    const uuid = String(req.params.uuid);
    if (!UUID.test(uuid)) throw notFound('offer set', uuid);
    await sendOfferSet(req, res, uuid, 200);
  });

  // Upstream's one-call path: request offers and accept the first.
  router.post('/direct', auth, asRequest, readBody, async (req, res) => {
    const set = await createOfferSet(req, res);
    const first = set.offers[0];
    if (set.result !== 'YES' || !first) {
      throw new HttpProblem(400, 'Bad Request', 'The broker cannot meet this request.', {
        messages: set.messages, offerset: `${baseUrlOf(req)}/offersets/${set.uuid}`,
      });
    }
    const accepted = await acceptOffer(db, deps.queues, first.uuid, deps.logger);
    if (accepted.outcome !== 'accepted') {
      throw new HttpProblem(409, 'Conflict', accepted.outcome === 'over-quota' ? accepted.detail : `The first offer could not be accepted (${accepted.outcome}).`);
    }
    deps.metrics.accepted.inc();
    await keepCredential(db, deps.sealer, first.uuid, principalOf(res), req.get('x-refresh-token'));
    const location = `${baseUrlOf(req)}/executions/${first.uuid}`;
    res.location(location);
    if (!wantsRepresentation(req)) return res.status(303).end();
    const [record] = await findExecutions(db, [first.uuid]);
    res.set('Preference-Applied', 'return=representation');
    sendBody(req, res, 200, renderExecution(record!, baseUrlOf(req)), 'AbstractExecutionSession');
  });
  return router;
}
