import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { MmsError } from '../domain/errors.js';
import type { Db } from '../store/index.js';
import { firstFailure } from '../store/ledger-repo.js';
import { claimRequests, finishRequest, pruneHistory, releaseRequest, renewLease, retryRequest, saveProgress } from '../store/queue-repo.js';
import type { MigrationRequest } from '../store/requests-repo.js';
import { DEFAULT_RETRY, retryDelay, type RetryPolicy } from './backoff.js';
import { migrateUser, yieldToEventLoop } from './migrate-user.js';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** Per-batch progress (pino's debug level); loggers without it stay quiet. */
  debug?(obj: object, msg?: string): void;
}

export interface WorkerOptions {
  readonly db: Db;
  readonly now?: () => number;
  readonly logger: Logger;
  readonly workerId?: string;
  readonly serviceAddress?: string;
  readonly leaseMs?: number;
  /** How often an idle worker looks for work. */
  readonly pollMs?: number;
  readonly retry?: RetryPolicy;
  readonly historyDays?: number;
  readonly batchSize?: number;
  readonly random?: () => number;
}

/** Errors worth retrying: lost connections, lock timeouts, anything not known to be permanent. */
export function isTransient(err: unknown): boolean {
  if (err instanceof MmsError) return err.code === 'Transient';
  return true;
}

/**
 * The background service: claims runnable migration requests (a lease that it renews while working and that
 * another worker reclaims if this one dies), migrates each user's meetings, and ends each request Succeeded or
 * Failed — or, for a transient failure, back to Pending with exponential backoff. It never crashes on input:
 * errors go to the log and to the request's LastMessage.
 */
export class MigrationWorker {
  readonly id: string;
  private stopping = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private lastPrune = 0;
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly retry: RetryPolicy;

  constructor(private readonly opts: WorkerOptions) {
    this.id = opts.workerId ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.now = opts.now ?? Date.now;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.retry = opts.retry ?? DEFAULT_RETRY;
  }

  /** Starts the loop; resolves when it has stopped. */
  start(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops claiming, lets the current batch finish, gives the request back, and resolves when done. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
  }

  /** Runs every request runnable now, one after another; for tests and `-Wait`. Returns how many ran. */
  async drain(): Promise<number> {
    let n = 0;
    while (!this.stopping && (await this.runOnce())) n++;
    return n;
  }

  /** Claims and runs one request (of `only`, when given); false when there was nothing to do. */
  async runOnce(only?: readonly string[]): Promise<boolean> {
    const [request] = await claimRequests(this.opts.db, this.id, this.now(), this.leaseMs, 1, only);
    if (!request) return false;
    await this.run(request);
    return true;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.maybePrune();
        if (await this.runOnce()) {
          await yieldToEventLoop(); // let SIGTERM in between requests, too
          continue;
        }
      } catch (err) {
        this.opts.logger.error({ err: String(err), worker: this.id }, 'migration worker loop error; continuing');
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.opts.pollMs ?? 1000);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  private async maybePrune(): Promise<void> {
    const now = this.now();
    if (now - this.lastPrune < 3_600_000) return;
    this.lastPrune = now;
    const days = this.opts.historyDays ?? 150;
    const removed = await pruneHistory(this.opts.db, now - days * 86_400_000);
    if (removed) this.opts.logger.info({ removed, days }, 'pruned migration history');
  }

  /** Runs one claimed request to its end state (or gives it back when stopping / the lease was lost). */
  async run(request: MigrationRequest): Promise<void> {
    const { db, logger } = this.opts;
    const log = { correlationId: request.correlationId, userId: request.userId, worker: this.id };
    // An attempt left open belongs to a worker that died (its lease expired, which is how we got the request).
    await db.kysely.updateTable('migration_attempts').set({ ended_at: this.now(), outcome: 'Abandoned' })
      .where('correlation_id', '=', request.correlationId).where('ended_at', 'is', null).execute();
    const attempt = await db.kysely.insertInto('migration_attempts')
      .values({ correlation_id: request.correlationId, worker_id: this.id, started_at: this.now(), ended_at: null, outcome: null })
      .returning('id').executeTakeFirstOrThrow();
    // Said at debug level once per claim and once per committed batch (below): what an operator or a test watching
    // the log waits for, instead of guessing from the clock when the work is under way.
    logger.debug?.({ ...log, attempt: Number(attempt.id) }, 'migration claimed');
    let lost = false;
    let outcome = 'Succeeded';
    try {
      const { counts, stopped } = await migrateUser(
        {
          db,
          now: this.now,
          serviceAddress: this.opts.serviceAddress,
          batchSize: this.opts.batchSize,
          shouldStop: () => this.stopping || lost,
          onProgress: async (c) => {
            await saveProgress(db, request.correlationId, this.id, c, this.now());
            lost = !(await renewLease(db, request.correlationId, this.id, this.now(), this.leaseMs));
            logger.debug?.({ ...log, ...c }, 'migration progress');
          },
        },
        request,
      );
      if (lost) {
        outcome = 'LeaseLost';
        logger.warn(log, 'lease lost to another worker; leaving the request to it');
      } else if (stopped) {
        outcome = 'Released';
        await releaseRequest(db, request.correlationId, this.id, this.now());
      } else {
        const failed = counts.failedMeeting > 0;
        const first = failed ? await firstFailure(db.kysely, request.correlationId) : undefined;
        const message = failed
          ? `${counts.failedMeeting} of ${counts.totalMeeting} meetings could not be updated; first: ${first?.uid}: ${first?.reason}`
          : `${counts.invitesUpdate} updated, ${counts.totalMeeting - counts.invitesUpdate - counts.skippedMeeting} already current, ${counts.skippedMeeting} skipped`;
        outcome = failed ? 'Failed' : 'Succeeded';
        await finishRequest(db, request.correlationId, this.id, { state: outcome as 'Failed' | 'Succeeded', lastMessage: message, counts }, this.now());
        logger.info({ ...log, ...counts, state: outcome }, 'migration finished');
      }
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      const retryCount = request.retryCount + 1;
      if (isTransient(err) && retryCount < this.retry.maxAttempts) {
        outcome = 'Retry';
        const at = this.now() + retryDelay(this.retry, retryCount, this.opts.random);
        await retryRequest(db, request.correlationId, this.id, { retryAt: at, retryCount, lastMessage: `attempt ${retryCount} failed, retrying at ${new Date(at).toISOString()}: ${message}` }, this.now())
          .catch((e: unknown) => logger.error({ ...log, err: String(e) }, 'could not record the retry; the lease will expire and another worker will take the request'));
        logger.warn({ ...log, err: message, retryCount }, 'migration attempt failed; will retry');
      } else {
        outcome = 'Failed';
        const why = isTransient(err) ? `gave up after ${retryCount} attempts: ${message}; fix the cause and run Start-CsExMeetingMigration` : message;
        await finishRequest(db, request.correlationId, this.id, { state: 'Failed', lastMessage: why, retryCount }, this.now()).catch(() => false);
        logger.error({ ...log, err: message }, 'migration failed');
      }
    } finally {
      await db.kysely.updateTable('migration_attempts').set({ ended_at: this.now(), outcome }).where('id', '=', Number(attempt.id)).execute().catch(() => undefined);
    }
  }
}
