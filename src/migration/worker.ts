import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { MmsError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import { isConnectionLost, pingDatabase, type Db } from '../store/index.js';
import { firstFailure } from '../store/ledger-repo.js';
import { claimRequests, endAttempt, finishRequest, releaseRequest, renewLease, retryRequest, saveProgress, type ClaimedRequest } from '../store/queue-repo.js';
import { watchQueue } from '../store/wake-watch.js';
import { beatWorker, removeWorker } from '../store/worker-repo.js';
import type { SecretBox } from '../secrets/index.js';
import { DEFAULT_RETRY, nextAttemptAt, type RetryPolicy } from './backoff.js';
import { IdleWait } from './idle-wait.js';
import { migrateUser, yieldToEventLoop } from './migrate-user.js';
import { WorkerUpkeep } from './worker-upkeep.js';

export type { Logger } from '../domain/logger.js';

export interface WorkerOptions {
  readonly db: Db;
  readonly now?: () => number;
  readonly logger: Logger;
  readonly workerId?: string;
  readonly serviceAddress?: string;
  readonly leaseMs?: number;
  /** The longest an idle worker waits before it looks for work again; a queued request wakes it earlier (idle-wait.ts). */
  readonly pollMs?: number;
  readonly retry?: RetryPolicy;
  readonly historyDays?: number;
  readonly batchSize?: number;
  readonly random?: () => number;
  /** How often the lease is renewed while a request runs; default a third of the lease. */
  readonly renewEveryMs?: number;
  /** Tests: runs inside each batch, after it is planned and before it is written (a batch that takes long). */
  readonly beforeWrite?: (uids: readonly string[]) => Promise<void>;
  /** Opens the passwords of mailbox hosts (users whose mailbox is on a CalDAV server). */
  readonly secrets?: SecretBox;
  /** Per-request timeout for calendar servers (default 30 s). */
  readonly davTimeoutMs?: number;
}

/** Waits between attempts to reach a database that went away: at once, then doubling up to the cap. */
export const RECONNECT_FIRST_MS = 100;
export const RECONNECT_MAX_MS = 5000;
/**
 * Resumes of one request in a row that lose the connection again before committing a batch: then the loss is
 * taken for the request's own doing (a statement that ends its backend every time) and counted as a failed
 * attempt, so that such a request ends Failed after its attempts instead of being resumed for ever.
 */
const MAX_RESUMES_WITHOUT_PROGRESS = 5;

/**
 * A running worker writes its heartbeat row once per poll interval, but at most once a second: an idle worker on
 * SQLite polling every 10 ms must not write 100 times a second (old rows are pruned by worker-upkeep.ts).
 */
const MIN_BEAT_MS = 1000;

/** Undo records itself as a request with this trigger reason; a worker only ever ends such a request. */
export const UNDO_REASON_PREFIX = 'Undo:';

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
  private readonly idle: IdleWait;
  /** When the database connection was found lost (undefined while it works); one log line each way. */
  private dbLostAt: number | undefined;
  /** The request in hand when the connection went: this worker still holds its lease and resumes it at once. */
  private resume: ClaimedRequest | null = null;
  private resumesWithoutProgress = 0;
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly retry: RetryPolicy;
  private readonly startedAt: number;
  /** The heartbeat being written, if any: beats never overlap, and stopping waits for the last one. */
  private beating: Promise<void> | null = null;
  private readonly upkeep: WorkerUpkeep;

  constructor(private readonly opts: WorkerOptions) {
    this.id = opts.workerId ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.upkeep = new WorkerUpkeep({ db: opts.db, now: this.now, logger: opts.logger, workerId: this.id, historyDays: opts.historyDays });
    this.idle = new IdleWait(opts.db, this.now, opts.pollMs ?? 1000, (ms) => opts.logger.debug?.({ worker: this.id, ms }, 'worker idle'));
  }

  /** Starts the loop; resolves when it has stopped. */
  start(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /**
   * Writes this worker's heartbeat row (worker_heartbeats: id, host, pid, started, last seen) now; the loop calls it
   * on a timer every poll interval (at least a second apart). A failure is logged and does not stop the worker: the
   * next beat tries again. `mms serve` calls it once before it says it runs, so that the row is there by then.
   */
  heartbeat(): Promise<void> {
    // While the database is away the loop reconnects (and says so once); the first beat after it is back catches up.
    if (this.dbLostAt !== undefined) return Promise.resolve();
    this.beating ??= beatWorker(this.opts.db.kysely, {
      id: this.id, host: os.hostname(), pid: process.pid, startedAt: this.startedAt, now: this.now(), beatMs: this.beatMs(),
    }).catch((err: unknown) => {
      if (!isConnectionLost(err)) this.opts.logger.warn({ worker: this.id, err: String(err) }, 'could not write the worker heartbeat; trying again at the next poll');
    }).finally(() => {
      this.beating = null;
    });
    return this.beating;
  }

  private beatMs(): number {
    return Math.max(this.opts.pollMs ?? 1000, MIN_BEAT_MS);
  }

  /** Stops claiming, lets the current batch finish, gives the request back, and resolves when done. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.idle.interrupt();
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
    // The request in hand when the connection went comes first (for `-Wait` too): its lease is still ours.
    const own = this.resume;
    if (own && (!only || only.includes(own.correlationId))) {
      this.resume = null;
      try {
        if (await this.resumeOwn(own)) return true;
      } catch (err) {
        this.resume ??= own; // still unreachable: keep it for the next try
        throw err;
      }
    }
    const [request] = await claimRequests(this.opts.db, this.id, this.now(), this.leaseMs, 1, only, this.retry.maxAttempts);
    if (!request) {
      await this.upkeep.queueEmpty();
      return false;
    }
    this.resumesWithoutProgress = 0;
    await this.run(request);
    return true;
  }

  private async loop(): Promise<void> {
    // The first beat goes along with the first turn of the loop (not before it: a stop right after start still
    // finds the loop's first turn done). A timer rather than a beat per turn: a request that runs for minutes keeps
    // beating between its batches.
    void this.heartbeat();
    const beats = setInterval(() => void this.heartbeat(), this.beatMs());
    beats.unref();
    const { db, logger, pollMs = 1000 } = this.opts;
    const watch = watchQueue(db, { logger, pollMs, onChange: () => this.idle.signal(), isIdle: () => this.idle.idle });
    try {
      await this.work();
    } finally {
      clearInterval(beats);
      await watch.close();
      await this.beating;
      // A clean stop leaves no row: what remains is workers that run, or that died (their last beat tells when).
      // Stopped while the database is away: the row stays, and its last beat says when this worker was last seen.
      if (this.dbLostAt === undefined) {
        await removeWorker(this.opts.db.kysely, this.id).catch((err: unknown) => {
          this.opts.logger.warn({ worker: this.id, err: String(err) }, 'could not remove the worker heartbeat; its last beat says when it was seen');
        });
      }
    }
  }

  private async work(): Promise<void> {
    while (!this.stopping) {
      try {
        if (this.dbLostAt !== undefined && !(await this.reconnect())) break;
        await this.upkeep.maybePrune();
        const claimedAt = this.now();
        const seen = this.idle.mark;
        if (await this.runOnce()) {
          await yieldToEventLoop(); // let SIGTERM in between requests, too
          continue;
        }
        await this.idle.sleep(claimedAt, seen, () => this.stopping);
        continue;
      } catch (err) {
        if (isConnectionLost(err)) {
          this.connectionLost(err);
          continue; // straight to reconnecting
        }
        this.opts.logger.error({ err: String(err), worker: this.id }, 'migration worker loop error; continuing');
      }
      await this.pause(this.opts.pollMs ?? 1000);
    }
    // Stopped while a request waited to be resumed: give it back so that another worker need not wait for the lease.
    const own = this.resume;
    if (own && this.dbLostAt === undefined) {
      // releaseRequest ends the attempt 'Released' in its own transaction.
      await releaseRequest(this.opts.db, own.correlationId, this.id, this.now()).catch(() => undefined);
    }
  }

  /** Sleeps `ms`, or less when stop() wakes the worker; not at all once stopping (a stop that came before the sleep). */
  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Notes a lost database connection: one warning per outage, however many queries fail during it. */
  private connectionLost(err: unknown): void {
    if (this.dbLostAt !== undefined) return;
    this.dbLostAt = this.now();
    this.opts.logger.warn({ worker: this.id, err: String(err) }, 'database connection lost; reconnecting with backoff');
  }

  /** Waits for the database with backoff (at once, then doubling to the cap); false when stopped meanwhile. */
  private async reconnect(): Promise<boolean> {
    let delay = 0;
    while (!this.stopping) {
      if (delay) await this.pause(delay);
      if (this.stopping) break;
      try {
        await pingDatabase(this.opts.db);
        this.opts.logger.info({ worker: this.id, downMs: this.now() - (this.dbLostAt ?? this.now()), resuming: this.resume?.correlationId }, 'database connection is back');
        this.dbLostAt = undefined;
        return true;
      } catch (err) {
        if (!isConnectionLost(err)) throw err;
        delay = Math.min(RECONNECT_MAX_MS, Math.max(RECONNECT_FIRST_MS, delay * 2));
      }
    }
    return false;
  }

  /**
   * Takes up again the request that was in hand when the connection went, without waiting for its lease: the
   * lease is still this worker's unless it expired and another worker took it (or the request's end committed
   * just before the connection went). The same attempt goes on; the ledger tells which meetings are done.
   */
  private async resumeOwn(request: ClaimedRequest): Promise<boolean> {
    if (await renewLease(this.opts.db, request.correlationId, this.id, this.now(), this.leaseMs)) {
      await this.run(request);
      return true;
    }
    await endAttempt(this.opts.db, request.attemptId, 'ConnectionLost', this.now()).catch(() => undefined);
    return false;
  }

  /** Runs one claimed request to its end state (or gives it back when stopping / the lease was lost). */
  async run(request: ClaimedRequest): Promise<void> {
    const { db, logger } = this.opts;
    const log = { correlationId: request.correlationId, userId: request.userId, worker: this.id };
    // Said at debug level once per claim and once per committed batch (below): what an operator or a test watching
    // the log waits for, instead of guessing from the clock when the work is under way.
    logger.debug?.({ ...log, attempt: request.attemptId }, 'migration claimed');
    let lost = false;
    let progressLines = 0;
    let outcome = 'Succeeded';
    if (request.triggerReasons.some((r) => r.startsWith(UNDO_REASON_PREFIX))) {
      // An undo whose process died (its lease expired): end it so the user's migrations can run again. Undo is
      // safe to run again: what it restored already is reported as already undone.
      outcome = 'Failed';
      await finishRequest(db, request.correlationId, this.id, { state: 'Failed', lastMessage: 'the undo stopped before it finished (its process ended); run Undo-MmsMeetingMigration again to restore the rest' }, this.now());
      await endAttempt(db, request.attemptId, outcome, this.now()).catch(() => undefined);
      return;
    }
    // The lease is renewed on a timer as well as after each batch, so that a batch that takes longer than the
    // lease (a slow remote mailbox, a huge meeting) keeps it. On SQLite, better-sqlite3 answers synchronously: a
    // batch of the built-in store runs start to end without giving timers a turn, so there the renewal happens
    // between batches (and wherever a batch really waits) — a lease must outlast one batch, which at
    // MMS_BATCH_SIZE meetings takes well under a second, far below the 60 s default. SQLite has one worker
    // process anyway; other processes only take a lease over after it expired.
    let renewal: Promise<void> = Promise.resolve();
    const renew = () => {
      renewal = renewal.then(async () => {
        if (!lost) lost = !(await renewLease(db, request.correlationId, this.id, this.now(), this.leaseMs));
      }).catch((err: unknown) => {
        // A lost connection fails the batch as well; the loop says so once and resumes the request.
        if (!isConnectionLost(err)) logger.warn({ ...log, err: String(err) }, 'could not renew the lease; trying again');
      });
      return renewal;
    };
    const timer = setInterval(() => void renew(), this.opts.renewEveryMs ?? Math.max(1, Math.floor(this.leaseMs / 3)));
    try {
      const { counts, stopped } = await migrateUser(
        {
          db,
          now: this.now,
          serviceAddress: this.opts.serviceAddress,
          batchSize: this.opts.batchSize,
          shouldStop: () => this.stopping || lost,
          beforeWrite: this.opts.beforeWrite,
          secrets: this.opts.secrets,
          davTimeoutMs: this.opts.davTimeoutMs,
          onProgress: async (c) => {
            await saveProgress(db, request.correlationId, this.id, c, this.now());
            // The first line comes when the meetings are listed and planned; every later one after a batch committed.
            if (++progressLines > 1) this.resumesWithoutProgress = 0;
            await renew();
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
      if (isConnectionLost(err) && this.resumesWithoutProgress < MAX_RESUMES_WITHOUT_PROGRESS) {
        this.resumesWithoutProgress++;
        // The batch in hand failed (its transaction is gone with the connection) but the request is still this
        // worker's: no retry counted, no backoff, nothing to record now that the database is unreachable.
        outcome = 'ConnectionLost';
        this.resume = request;
        this.connectionLost(err);
        return;
      }
      const retryCount = request.retryCount + 1;
      // Attempts were counted at the claim (deaths included); a retry merged from an older request carries its count.
      const attempts = Math.max(request.attempt, retryCount);
      if (isTransient(err) && attempts < this.retry.maxAttempts) {
        outcome = 'Retry';
        // A full disk retries within minutes (its own schedule), remote failures on the long one.
        const at = nextAttemptAt(err, this.retry, retryCount, this.now(), this.opts.random);
        await retryRequest(db, request.correlationId, this.id, { retryAt: at, retryCount, lastMessage: `attempt ${retryCount} failed, retrying at ${new Date(at).toISOString()}: ${message}` }, this.now())
          .catch((e: unknown) => logger.error({ ...log, err: String(e) }, 'could not record the retry; the lease will expire and another worker will take the request'));
        logger.warn({ ...log, err: message, retryCount }, 'migration attempt failed; will retry');
      } else {
        outcome = 'Failed';
        const why = isTransient(err) ? `gave up after ${attempts} attempts: ${message}; fix the cause and run Start-CsExMeetingMigration` : message;
        await finishRequest(db, request.correlationId, this.id, { state: 'Failed', lastMessage: why, retryCount }, this.now()).catch(() => false);
        logger.error({ ...log, err: message }, 'migration failed');
      }
    } finally {
      clearInterval(timer);
      await renewal;
      // After a lost connection the attempt goes on when the request is resumed; releaseRequest ended a given-back one.
      if (outcome !== 'ConnectionLost' && outcome !== 'Released') await endAttempt(db, request.attemptId, outcome, this.now()).catch(() => undefined);
      await this.upkeep.requestEnded();
    }
  }
}
