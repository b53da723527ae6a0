import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';
import { PHASE_CHANNEL } from '@eb/db';

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;
// A connection can die without an error (a database host gone, a proxy's idle cut): ask now and then.
const PING_MS = 5_000;

/**
 * One LISTEN connection per process, shared by every long-poll: PostgreSQL announces each committed
 * phase change, whichever replica or worker made it. When the connection is lost, for however long,
 * it is made again with backoff; waiters are woken on reconnection (they re-read the database, so no
 * change made during the outage is missed).
 */
export class PhaseListener {
  private readonly events = new EventEmitter();
  private client: pg.Client | undefined;
  private stopped = false;
  private retryMs = RETRY_MIN_MS;
  private reconnecting: NodeJS.Timeout | undefined;
  private ping: NodeJS.Timeout | undefined;

  constructor(private readonly url: string, private readonly logger: Logger) {
    this.events.setMaxListeners(0);
  }

  /** Connects; throws if the first attempt fails (a process that cannot reach its database should not start). */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'execution-api-listen', keepAlive: true, connectionTimeoutMillis: 5_000 });
    client.on('notification', (n) => { if (n.payload) this.events.emit(n.payload); });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${PHASE_CHANNEL}`);
    } catch (err) {
      void client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
    this.retryMs = RETRY_MIN_MS;
    this.ping = setInterval(() => { client.query('select 1').catch((err: Error) => this.lost(client, err)); }, PING_MS);
    this.ping.unref();
    // Whatever changed while no notification could arrive: everyone waiting looks again.
    this.events.emit('*');
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.logger.warn({ err: err.message }, 'phase listener lost its connection; reconnecting');
    this.client = undefined;
    clearInterval(this.ping);
    void client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnecting) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.reconnecting = setTimeout(() => {
      this.reconnecting = undefined;
      this.connect().then(
        () => this.logger.info('phase listener reconnected'),
        (err: Error) => {
          this.logger.warn({ err: err.message, retryInMs: this.retryMs }, 'phase listener could not reconnect');
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.reconnecting.unref();
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Resolves when the execution's phase changes, or after `ms`; true if it may have changed. */
  waitForChange(uuid: string, ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (changed: boolean) => {
        clearTimeout(timer);
        this.events.off(uuid, onChange);
        this.events.off('*', onChange);
        signal?.removeEventListener('abort', onAbort);
        resolve(changed);
      };
      const onChange = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      this.events.on(uuid, onChange);
      this.events.on('*', onChange);
      signal?.addEventListener('abort', onAbort);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnecting);
    clearInterval(this.ping);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
