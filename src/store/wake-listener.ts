import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { sql } from 'kysely';
import type { Logger } from '../domain/logger.js';
import type { Db } from './db.js';
import { queueChannel } from './wake-signal.js';

export interface QueueListenerOptions {
  readonly logger: Logger;
  /** Called for every queue notification (and once after each (re)connect: something may have come meanwhile). */
  readonly onChange: () => void;
  /** How often the worker polls meanwhile, for the log line that says so. */
  readonly pollMs: number;
  /** Reconnect waits: the first, doubling up to the cap (the worker's database reconnect uses the same). */
  readonly firstRetryMs?: number;
  readonly maxRetryMs?: number;
  /** How long the self-test notification may take to come back. */
  readonly probeMs?: number;
  /** Wait before trying again where LISTEN connects but notifications do not arrive (a pooler in transaction mode). */
  readonly unavailableRetryMs?: number;
}

class ListenUnavailable extends Error {}

/**
 * A dedicated PostgreSQL connection that LISTENs for queue changes (wake-signal.ts), so that a worker hears of a
 * trigger from any process the moment it commits. It proves each connection first: it sends itself a notification
 * through the pool, as a trigger would, and waits for it — a connection pooler in transaction mode (pgbouncer)
 * accepts LISTEN but never delivers, and is found out that way. While it is not listening (lost, not yet proven,
 * unavailable) the worker's poll finds the requests: one warning line when that starts, one info line when
 * notifications work again; reconnects with backoff, never throws.
 */
export class QueueListener {
  private client: pg.Client | null = null;
  /** The connection being opened and proved, not yet in use. */
  private pending: pg.Client | null = null;
  private closed = false;
  /** Whether the fallback was announced (one line per outage). */
  private down = false;
  private probe: { token: string; arrived: () => void } | null = null;
  private sleeping: { timer: NodeJS.Timeout; done: () => void } | null = null;
  private connecting: Promise<void> | null = null;

  constructor(private readonly db: Db, private readonly settings: { readonly url: string; readonly applicationName: string }, private readonly opts: QueueListenerOptions) {}

  start(): void {
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
  }

  /** Ends the connection, and one being opened (stop() never waits for an unreachable server or a self-test). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.done();
    }
    this.probe?.arrived();
    const clients = [this.client, this.pending];
    this.client = null;
    this.pending = null;
    // end() of a connection whose socket already went may never settle: wait for it a moment at most.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(clients.map((c) => c?.end().catch(() => undefined))),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000))),
    ]);
    clearTimeout(timer);
  }

  /** Whether notifications are being received now (for tests and the log). */
  get listening(): boolean {
    return this.client !== null;
  }

  private async connect(): Promise<void> {
    let driver: typeof pg;
    try {
      driver = (await import('pg')).default; // see openDatabase: only PostgreSQL loads the driver (loaded by then)
    } catch (err) {
      this.fallBack(err);
      return;
    }
    let delay = 0;
    while (!this.closed) {
      if (delay) await this.sleep(delay);
      if (this.closed) return;
      // Keepalive: a connection whose peer vanished without a word (a network partition) is found out in time.
      const client = new driver.Client({
        connectionString: this.settings.url, application_name: this.settings.applicationName, connectionTimeoutMillis: 10_000, keepAlive: true, keepAliveInitialDelayMillis: 30_000,
      });
      this.pending = client;
      // Events of a connection not (or no longer) in use are ignored; 'error' must have a listener or it kills the process.
      client.on('error', (err) => this.lost(client, err));
      client.on('end', () => this.lost(client, new Error('the LISTEN connection ended')));
      client.on('notification', (n) => {
        if (n.payload && this.probe && n.payload === this.probe.token) this.probe.arrived();
        else if (client === this.client) this.opts.onChange();
      });
      try {
        await client.connect();
        // Named by the server from the schema (wake-signal.ts), asked through the pool: the same search_path.
        const { rows } = await sql<{ channel: string }>`select ${queueChannel} as channel`.execute(this.db.kysely);
        const channel = rows[0]?.channel ?? '';
        await client.query(`listen "${channel.replace(/"/g, '""')}"`);
        await this.selfTest();
        if (this.closed) {
          await client.end().catch(() => undefined);
          return;
        }
        this.pending = null;
        this.client = client;
        if (this.down) this.opts.logger.info({ channel }, 'LISTEN works again: queued requests wake the worker at once');
        this.down = false;
        this.opts.onChange(); // anything queued while nobody listened
        return;
      } catch (err) {
        this.pending = null;
        await client.end().catch(() => undefined);
        this.fallBack(err);
        delay = err instanceof ListenUnavailable
          ? this.opts.unavailableRetryMs ?? 60_000
          : Math.min(this.opts.maxRetryMs ?? 5000, Math.max(this.opts.firstRetryMs ?? 100, delay * 2));
      }
    }
  }

  /** Sends a notification through the pool, as a trigger does, and waits for it to arrive on the new connection. */
  private async selfTest(): Promise<void> {
    const token = `probe:${randomUUID()}`;
    const ms = this.opts.probeMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const arrived = new Promise<boolean>((resolve) => {
      this.probe = { token, arrived: () => resolve(true) };
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      await sql`select pg_notify(${queueChannel}, ${token})`.execute(this.db.kysely);
      if (!(await arrived)) throw new ListenUnavailable(`a notification sent to it did not arrive within ${ms} ms (a connection pooler in transaction mode, such as pgbouncer, does not pass notifications on: set MMS_DATABASE_LISTEN_URL to a direct connection to the database)`);
    } finally {
      clearTimeout(timer);
      this.probe = null;
    }
  }

  private lost(client: pg.Client, err: unknown): void {
    if (client !== this.client || this.closed) return;
    this.client = null;
    client.end().catch(() => undefined);
    this.fallBack(err);
    this.start();
  }

  private fallBack(err: unknown): void {
    if (this.down || this.closed) return;
    this.down = true;
    this.opts.logger.warn({ err: err instanceof Error ? err.message : String(err), pollMs: this.opts.pollMs },
      'cannot LISTEN for queued requests: the worker finds them by polling (MMS_POLL_INTERVAL) meanwhile; trying to LISTEN again with backoff');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.sleeping = null;
        resolve();
      };
      this.sleeping = { timer: setTimeout(done, ms), done };
      this.sleeping.timer.unref();
    });
  }
}
