import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { ContainerEgress } from './config.js';
import { LABEL_MANAGED } from './labels.js';
import { createSpareNetwork, ensureExecutionNetwork, isOurNetwork, removeNetwork } from './network.js';

// Removing a network is retried this often, this far apart, before it is left to the next sweep.
const REMOVE_ATTEMPTS = 4;
const REMOVE_BACKOFF_MS = 1000;
// A network of ours with no container for this long is garbage (a worker died holding it).
const ABANDONED_MS = 10 * 60_000;

/**
 * Execution networks made ahead and removed behind. Making a bridge network and removing it cost the
 * engine about 0.1 s and 0.2 s (its iptables work), more than a short container takes to run; so the
 * worker keeps `spares` fresh networks made before they are needed, gives each to one execution only
 * (never back to the pool, never to a second execution), and removes an execution's network after its
 * container is gone without holding up the release: a network without containers holds nothing of the
 * booking. What a worker that died left behind goes at the next worker's sweep.
 */
export class ExecutionNetworks {
  private readonly ready: string[] = [];
  private making = 0;
  private readonly pending = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly docker: Docker, private readonly egress: ContainerEgress, private readonly size: number, private readonly logger?: Logger) {}

  /** The spares ready to be given out. */
  spares(): readonly string[] {
    return [...this.ready];
  }

  /**
   * A network for the execution: a spare when one is ready (and still there: another worker's sweep may
   * have taken an old one), otherwise one made now. The pool is filled again when an execution's network
   * has been removed: not now, when the engine's work would slow this execution's container start.
   */
  async take(executionUuid: string): Promise<string> {
    for (let spare = this.ready.shift(); spare; spare = this.ready.shift()) {
      if (await this.docker.getNetwork(spare).inspect().then(() => true, () => false)) return spare;
    }
    return ensureExecutionNetwork(this.docker, executionUuid, this.egress);
  }

  /**
   * Removes a network of ours in the background, retrying a while, then makes the spare that replaces
   * it; a network not ours is left alone.
   */
  retire(name: string | undefined): void {
    if (!isOurNetwork(name)) return;
    this.track((async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await removeNetwork(this.docker, name);
          this.fill();
          return;
        } catch (err) {
          if (attempt >= REMOVE_ATTEMPTS) {
            this.logger?.warn({ network: name, err: (err as Error).message }, 'could not remove a network: left to the next sweep');
            return;
          }
          await new Promise((r) => setTimeout(r, REMOVE_BACKOFF_MS * attempt));
        }
      }
    })());
  }

  /**
   * Removes networks of ours that no container has used for long (a worker died holding them). A
   * container made but not started, or stopped and not yet released, still counts: the network's own
   * list names only running ones, the containers' `network` filter all of them.
   */
  async sweep(): Promise<void> {
    const all = await this.docker.listNetworks({ filters: { label: [`${LABEL_MANAGED}=true`] } });
    for (const n of all) {
      if (this.ready.includes(n.Name) || !isOurNetwork(n.Name) || Date.now() - Date.parse(n.Created) < ABANDONED_MS) continue;
      const users = await this.docker.listContainers({ all: true, filters: { network: [n.Name] } });
      if (users.length === 0) this.retire(n.Name);
    }
  }

  /** Stops making spares, removes those not given out, and waits for the removals under way. */
  async close(): Promise<void> {
    this.closed = true;
    for (const spare of this.ready.splice(0)) this.retire(spare);
    await this.idle();
  }

  /** Waits until no network is being made or removed. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private fill(): void {
    while (!this.closed && this.ready.length + this.making < this.size) {
      this.making++;
      this.track(createSpareNetwork(this.docker, this.egress).then(
        (name) => { if (this.closed) this.retire(name); else this.ready.push(name); },
        (err: unknown) => this.logger?.warn({ err: (err as Error).message }, 'could not make a spare network'),
      ).finally(() => { this.making--; }));
    }
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
