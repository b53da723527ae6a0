import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';
import { PHASE_CHANNEL } from '@eb/db';

/**
 * One LISTEN connection per process, shared by every long-poll: PostgreSQL announces each committed
 * phase change, whichever replica or worker made it. Reconnects with a delay if the connection drops.
 */
export class PhaseListener {
  private readonly events = new EventEmitter();
  private client: pg.Client | undefined;
  private stopped = false;

  constructor(private readonly url: string, private readonly logger: Logger) {
    this.events.setMaxListeners(0);
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'execution-api-listen' });
    client.on('notification', (n) => { if (n.payload) this.events.emit(n.payload); });
    client.on('error', (err) => {
      this.logger.warn({ err: err.message }, 'phase listener lost its connection');
      this.client = undefined;
      void client.end().catch(() => undefined);
      if (!this.stopped) setTimeout(() => void this.start().catch(() => undefined), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${PHASE_CHANNEL}`);
    this.client = client;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Resolves when the execution's phase changes, or after `ms`; true if it changed. */
  waitForChange(uuid: string, ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (changed: boolean) => {
        clearTimeout(timer);
        this.events.off(uuid, onChange);
        signal?.removeEventListener('abort', onAbort);
        resolve(changed);
      };
      const onChange = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      this.events.on(uuid, onChange);
      signal?.addEventListener('abort', onAbort);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }
}
