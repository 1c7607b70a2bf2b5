import type { Logger } from '../domain/logger.js';
import type { Db } from '../store/index.js';
import { checkpointWal } from '../store/checkpoint.js';
import { pruneHistory } from '../store/queue-repo.js';
import { pruneTelemetry } from '../store/telemetry-repo.js';
import { pruneWorkers } from '../store/worker-repo.js';

/**
 * While requests follow one another, the SQLite WAL is checkpointed at most this often (SQLite's own automatic
 * checkpoint every WAL_AUTOCHECKPOINT_PAGES keeps it small meanwhile); always when the queue runs empty.
 */
const CHECKPOINT_EVERY_MS = 5000;
const PRUNE_EVERY_MS = 3_600_000;
/** Heartbeat rows of workers not seen for a week are dropped. */
const FORGET_WORKERS_AFTER_MS = 7 * 86_400_000;

/**
 * A worker's housekeeping beside its requests: pruning history, old heartbeats and client telemetry once an hour,
 * and folding the SQLite WAL into the database after bursts of writes.
 */
export class WorkerUpkeep {
  private lastPrune = 0;
  private checkpointedAt = Number.NEGATIVE_INFINITY;
  private wroteSinceCheckpoint = false;

  constructor(private readonly opts: { db: Db; now: () => number; logger: Logger; workerId: string; historyDays?: number }) {}

  /** Prunes what is past its keeping time, at most once an hour. */
  async maybePrune(): Promise<void> {
    const { db, logger } = this.opts;
    const now = this.opts.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    const days = this.opts.historyDays ?? 150;
    await pruneWorkers(db.kysely, now - FORGET_WORKERS_AFTER_MS).catch(() => undefined);
    const removed = await pruneHistory(db, now - days * 86_400_000);
    if (removed) logger.info({ removed, days }, 'pruned migration history');
    // Client telemetry past each tenant's RetentionDays / ErrorReportRetentionDays (issue 11 §5).
    const t = await pruneTelemetry(db, now);
    if (t.census + t.usage + t.errors) logger.info({ ...t }, 'pruned client telemetry past its retention');
  }

  /**
   * A request ended: a burst of writes. The WAL is folded into the database so that it starts over small — at most
   * every CHECKPOINT_EVERY_MS while requests follow one another (each checkpoint syncs the database file; one per
   * request was a quarter of the database time of a tenant-wide change), and when the queue runs empty.
   */
  async requestEnded(): Promise<void> {
    this.wroteSinceCheckpoint = true;
    if (this.opts.now() - this.checkpointedAt >= CHECKPOINT_EVERY_MS) await this.checkpoint();
  }

  /** The queue is empty: the burst is over. */
  async queueEmpty(): Promise<void> {
    if (this.wroteSinceCheckpoint) await this.checkpoint();
  }

  private async checkpoint(): Promise<void> {
    this.wroteSinceCheckpoint = false;
    this.checkpointedAt = this.opts.now();
    await checkpointWal(this.opts.db).catch((err: unknown) => this.opts.logger.warn({ worker: this.opts.workerId, err: String(err) }, 'WAL checkpoint failed; SQLite checkpoints again on its own'));
  }
}
