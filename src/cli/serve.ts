import v8 from 'node:v8';
import pino from 'pino';
import { workerSettings, type Config } from '../config.js';
import type { Cmdlet } from './cmdlet.js';
import { prettyLogStream } from './log-output.js';
import { secretsFor } from './secrets.js';
import { describeDemo, loadDemoIfEmpty } from '../demo/index.js';
import { OutboxSender } from '../delivery/index.js';
import { MmsError } from '../domain/errors.js';
import { MigrationWorker, RECONNECT_FIRST_MS, RECONNECT_MAX_MS } from '../migration/index.js';
import { openDatabase, redact, type Db } from '../store/index.js';

/**
 * `mms serve` (what `npm start` runs): opens the database (schema brought up to date; a database that is not
 * reachable yet is waited for, as a service started before its database must), loads the Contoso demo on a new
 * one, and runs the migration worker — and, when MMS_SMTP_URL is set, the outbox sender beside it — until SIGTERM
 * or Ctrl+C, when both stop claiming, finish or give back what they hold, and it exits.
 */
export async function serve(config: Config, cmdlets: readonly Cmdlet[]): Promise<void> {
  limitHeapGrowth();
  const options = { level: config.logLevel, base: { service: 'mms' } };
  // JSON lines for files, pipes and the journal; a short human form on a terminal (log-output.ts).
  const logger = process.stdout.isTTY ? pino(options, prettyLogStream(process.stdout)) : pino(options);
  let worker: MigrationWorker | undefined;
  let sender: OutboxSender | undefined;
  let stopping = false;
  let wake = () => undefined as void;
  const stop = (signal: string) => {
    stopping = true;
    wake();
    logger.info({ signal }, 'stopping: no new claims; finishing or giving back the request in hand');
    void worker?.stop();
    void sender?.stop();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  const db = await openWhenReachable(config, logger, () => stopping, (w) => (wake = w));
  if (!db) return;
  let api: { url: string; close(): Promise<void> } | undefined;
  try {
    if (config.demoOnFirstStart) {
      const demo = await loadDemoIfEmpty(db, { now: Date.now() });
      if (demo) process.stdout.write(`${describeDemo(demo)}\n`);
    }
    if (config.http && !stopping) {
      // Loaded only here: the HTTP server is code a one-off cmdlet never needs (see scripts/build.mjs).
      const { startApi } = await import('../http/listen.js');
      api = await startApi({ db, config, cmdlets, logger, address: config.http });
      logger.info({ url: api.url }, 'REST API listening (/api/docs, /healthz)');
      // First start: the first admin account and its one-time sign-in link, printed once (as the demo summary is).
      const { firstAdminNotice } = await import('../http/admin-accounts.js');
      const notice = await firstAdminNotice(db, config, api.url, Date.now());
      if (notice) process.stdout.write(`${notice}\n`);
    }
    if (db.dialect === 'postgres' && !config.secretKey) {
      logger.warn('MMS_SECRET_KEY is not set: leader PINs are hashed without the pepper it gives, and a PIN emailed to a user waits in the outbox unsealed until sent; set MMS_SECRET_KEY (the same for every mms process)');
    }
    const settings = workerSettings(config);
    worker = new MigrationWorker({ db, logger, ...settings, secrets: secretsFor(config, db) });
    // The heartbeat row is there before the worker says it runs: commands stop warning that no worker runs from then on.
    await worker.heartbeat();
    logger.info({ database: redact(config.databaseUrl), dialect: db.dialect, worker: worker.id }, 'MMS worker running; mms help lists the commands');
    if (config.smtp) {
      sender = new OutboxSender({
        db, logger, smtp: config.smtp, rate: config.smtpRate, leaseMs: settings.leaseMs, pollMs: settings.pollMs, retry: settings.retry,
        secrets: secretsFor(config, db),
      });
      await sender.prepare();
    } else {
      logger.info('MMS_SMTP_URL is not set: updates for external attendees stay Queued in the outbox');
    }
    // A signal that came while the database was opened: both stop before their first claim.
    if (stopping) {
      void worker.stop();
      void sender?.stop();
    }
    await Promise.all([worker.start(), sender?.start()]);
    logger.info({ worker: worker.id }, 'MMS worker stopped');
  } finally {
    await api?.close();
    await db.close();
  }
}

/**
 * Opens the database, waiting with backoff while it is not reachable (one line when the wait begins, one when it
 * ends); anything else (a bad URL, a schema that cannot be prepared) fails at once. Undefined when stopped while
 * waiting.
 */
async function openWhenReachable(config: Config, logger: pino.Logger, stopping: () => boolean, onWake: (wake: () => void) => void): Promise<Db | undefined> {
  // The application_name lets an operator tell the service's connections from the cmdlets' in pg_stat_activity.
  // The worker waits for another process's lock at most half its lease: while it waits, its one SQLite connection
  // cannot renew the lease either, and a wait as long as the lease would lose the request it holds.
  const busyWaitMs = Math.min(config.busyWaitMs, Math.floor(config.leaseMs / 2));
  // SQLite: checkpoints in a thread of their own, off the thread that writes (store/background-checkpoints.ts).
  const open = () => openDatabase(config.databaseUrl, { applicationName: `mms-worker-${process.pid}`, busyWaitMs, listenUrl: config.databaseListenUrl, backgroundCheckpoints: true });
  let delay = 0;
  let since: number | undefined;
  while (!stopping()) {
    try {
      const db = await open();
      if (since !== undefined) logger.info({ database: redact(config.databaseUrl), waitedMs: Date.now() - since }, 'database reachable; starting');
      return db;
    } catch (err) {
      if (!(err instanceof MmsError) || err.code !== 'Transient') throw err;
      if (since === undefined) {
        since = Date.now();
        logger.warn({ database: redact(config.databaseUrl), err: err.message }, 'database not reachable; waiting for it (retrying with backoff)');
      }
    }
    delay = Math.min(RECONNECT_MAX_MS, Math.max(RECONNECT_FIRST_MS, delay * 2));
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, delay);
      onWake(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  return undefined;
}

/**
 * The node options `mms serve` is started with (`npm start`, the systemd unit in docs/running-as-a-service.md, the
 * bench's service processes): flags V8 reads only when the process starts, so they cannot be set from here as
 * limitHeapGrowth's is. A young generation of up to 32 MB per semi-space instead of node 20's 16: a migration parses
 * and rewrites every object it touches, and most of what it allocates dies young; with room for it, fewer
 * scavenges run and less is promoted to the old generation. Measured on the full-size bench, one `mms serve`
 * process on SQLite, alternating runs (2026-12-01): per-user 100 meetings p50 431 → 308 ms, tenant-wide change
 * 268 → 312 meetings/s, peak RSS 213 → 256 MB (issue 13's limit is 300).
 */
export const SERVE_NODE_OPTIONS = ['--max-semi-space-size=32'] as const;

/** How far V8 lets the heap grow past what the last full collection kept: 50 % (V8 chooses up to 4 × by itself). */
export const HEAP_GROWING_PERCENT = 50;

/**
 * A migration allocates fast and keeps little (its live heap stayed at 31–43 MB through a 100,000-meeting change),
 * so V8, which grows the heap up to 4 × the live size when collecting is cheap, let it reach ~220 MB between full
 * collections: 324 MB peak RSS for the worker process at full size, where issue 13 asks for at most 300 whatever
 * the tenant's size. With growth held to 1.5 × the peak was 217 MB at the same rate (597 against 585 meetings/s,
 * SQLite, 40 s of the full-size tenant-wide change). The flag is read at each collection, so setting it here works;
 * an operator's own --heap-growing-percent (node option or NODE_OPTIONS) is left as given.
 */
export function limitHeapGrowth(flags: readonly string[] = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]): boolean {
  if (flags.some((f) => /^--heap[-_]growing[-_]percent\b/.test(f))) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
