import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { message } from '@eb/schema';
import { countReleases, earlyStartCandidates, moveBookedStart, readCalendar, type Db, type EarlyCandidate } from '@eb/db';
import { FreeCalendar, wakeExecution, type StepJob } from '@eb/core';

type TimedCalendar = FreeCalendar & { now: number };

/** The earliest start its request allows, from now on. */
const targetOf = (calendar: TimedCalendar, c: EarlyCandidate) => Math.max(calendar.now, c.earliestStart.getTime());

/** Whether its whole booking fits from its target on (beside what it holds itself), and is earlier than booked. */
function fits(calendar: TimedCalendar, c: EarlyCandidate): boolean {
  const to = targetOf(calendar, c);
  if (to >= c.prepareStart.getTime()) return false;
  const free = calendar.freeBeside(to, to + c.spanMs, c.prepareStart.getTime(), c);
  return free.cores >= c.cores && free.memoryGib >= c.memoryGib && free.storageGib >= c.storageGib;
}

/** y needs no more of anything than x (so wherever x fits, y would have, but for what each holds itself). */
const needsNoMore = (y: EarlyCandidate, x: EarlyCandidate) =>
  y.cores <= x.cores && y.memoryGib <= x.memoryGib && y.storageGib <= x.storageGib && y.spanMs <= x.spanMs;

/**
 * Starts waiting executions earlier when capacity frees up (a completion, a cancel, a failure, a hold
 * that lapsed): in the order they were booked to start, each moves to the earliest time its request
 * allows (never before its requested window; interactive sessions only when their owner allowed it)
 * if its whole booking fits there. Executions that do not fit are passed over for later ones that do
 * (backfilling): a booked start is never delayed by this, since each keeps its own booking until it
 * moves. The database refuses any move that would overbook, so passes may run anywhere at once.
 */
export class EarlyStarter {
  private running: Promise<number> | undefined;
  private again = false;

  constructor(private readonly db: Db, private readonly queue: Queue<StepJob>, private readonly platform: string, private readonly logger: Logger) {}

  /** Asks for a pass soon; pokes while one runs make one more pass after it. */
  poke(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runOnce()
      .catch((err: unknown) => { this.logger.warn({ err: (err as Error).message }, 'early start pass failed'); return 0; })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  /** Waits for the pass under way, if any. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** One pass; returns how many executions were moved earlier. */
  async runOnce(): Promise<number> {
    const { now, candidates } = await earlyStartCandidates(this.db, this.platform);
    if (candidates.length === 0) return 0;
    // Read a little further than the latest end, for the time that passes meanwhile.
    const horizon = Math.max(...candidates.map((c) => Math.max(now.getTime(), c.earliestStart.getTime()) + c.spanMs)) - now.getTime() + 60_000;
    let calendar = await this.calendar(horizon);
    const skipped: EarlyCandidate[] = [];
    let moved = 0;
    for (const c of candidates) {
      if (!calendar) break;
      if (!fits(calendar, c)) {
        skipped.push(c);
        continue;
      }
      // Capacity may have freed up since an earlier one was passed over: if this one fits, so may one
      // booked before it that needs no more, and that one goes first.
      for (const first of skipped.filter((y) => needsNoMore(y, c) && fits(calendar!, y))) {
        skipped.splice(skipped.indexOf(first), 1);
        if (await this.move(first, calendar)) moved += 1;
        else skipped.push(first);
        // Moved, or refused because the calendar was already out of date: read it again either way.
        calendar = await this.calendar(horizon);
        if (!calendar) break;
      }
      if (!calendar || !fits(calendar, c)) {
        skipped.push(c);
        continue;
      }
      if (await this.move(c, calendar)) moved += 1;
      else skipped.push(c);
      calendar = await this.calendar(horizon);
    }
    if (moved) this.logger.info({ moved }, 'executions started early');
    return moved;
  }

  private async move(c: EarlyCandidate, calendar: TimedCalendar): Promise<boolean> {
    const to = targetOf(calendar, c);
    const note = message('urn:schedule-change', 'INFO', 'Capacity freed up: the booked start {booked} moved to {start}', {
      booked: c.prepareStart.toISOString(), start: new Date(to).toISOString(),
    });
    if (!(await moveBookedStart(this.db, c.uuid, c.prepareStart, new Date(to), note))) return false;
    await this.wake(c, to);
    return true;
  }

  private async calendar(horizonMs: number): Promise<TimedCalendar | undefined> {
    let snapshot = await readCalendar(this.db, this.platform, horizonMs);
    // What ended executions gave back is counted off the buckets first, many at once (as a planner does).
    if (snapshot?.uncountedReleases && (await countReleases(this.db, this.platform))) snapshot = await readCalendar(this.db, this.platform, horizonMs);
    return snapshot && Object.assign(new FreeCalendar(snapshot, horizonMs), { now: snapshot.now.getTime() });
  }

  /** Brings the execution's sleeping job forward to its new start (waiting out a pass under way). */
  private async wake(c: EarlyCandidate, at: number): Promise<void> {
    await wakeExecution(this.queue, c.uuid, at - Date.now());
  }
}
