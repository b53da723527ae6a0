import type { DataResource } from '@eb/schema';
import { httpKind } from './http.js';
import { s3Kind } from './s3.js';
import { rucioKind } from './rucio.js';
import { ivoaKind } from './ivoa.js';
import { skaoKind } from './skao.js';
import type { DataSources } from '../sources.js';
import { PlanRefused, type DataKind, type FetchPlan, type PlanContext } from '../plan.js';

const KINDS: readonly DataKind[] = [httpKind, s3Kind, rucioKind, ivoaKind, skaoKind];

/** The data kinds the worker can stage with these sources configured. */
export const stageableKinds = (sources: DataSources): string[] => KINDS.filter((k) => k.available(sources)).map((k) => k.kind);

/** Turns a data component into its fetch plan, by its kind. */
export async function planFor(ctx: PlanContext): Promise<FetchPlan> {
  const kind = KINDS.find((k) => k.kind === ctx.component.kind);
  if (!kind) throw new PlanRefused(`no stager for data of kind ${ctx.component.kind}`);
  return kind.plan(ctx.component.spec as DataResource, ctx);
}
