import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Db } from './db.js';
import { debugTx } from './busy-wait.js';
import type { Database } from './schema.js';

export type Tx = Kysely<Database>;

/** Whether a connection or transaction speaks to PostgreSQL (the statements that differ by database ask). */
export const isPostgres = (k: Kysely<Database>): boolean => k.getExecutor().adapter instanceof PostgresAdapter;

/** How long this process's write transactions held the lock and waited for it (see {@link transactionStats}). */
export interface TransactionStats {
  count: number;
  /** The longest time from BEGIN done to COMMIT (or ROLLBACK) done, ms: how long another process waited at most. */
  longestHeldMs: number;
  /** Where the longest one was begun (a stack frame; recorded only with MMS_DEBUG=tx). */
  longestWhere: string | undefined;
  totalHeldMs: number;
  /** The longest wait for BEGIN (the lock held by another process; on PostgreSQL, a pool connection). */
  longestWaitMs: number;
}

const stats: TransactionStats = { count: 0, longestHeldMs: 0, longestWhere: undefined, totalHeldMs: 0, longestWaitMs: 0 };
if (debugTx) {
  // MMS_DEBUG=tx: one line on stderr at exit, read by `npm run bench -- --only concurrent` (and by an operator).
  process.once('exit', () => {
    process.stderr.write(`mms: write transactions: ${stats.count}, longest held ${stats.longestHeldMs.toFixed(1)} ms${stats.longestWhere ? ` (${stats.longestWhere})` : ''}, mean held ${(stats.totalHeldMs / Math.max(1, stats.count)).toFixed(1)} ms, longest wait for the lock ${stats.longestWaitMs.toFixed(1)} ms\n`);
  });
}

/** This process's write-transaction figures so far (a copy). */
export function transactionStats(): TransactionStats {
  return { ...stats };
}

// Work to do once a transaction has committed (wake-signal.ts: tell this process's worker a request was queued).
const commitHooks = new WeakMap<Tx, Array<() => void>>();

/**
 * Runs `fn` once the write transaction `tx` has committed; never when it rolls back. Outside a writeTransaction
 * (a statement that committed on its own) it runs at once.
 */
export function afterCommit(tx: Tx, fn: () => void): void {
  const hooks = commitHooks.get(tx);
  if (hooks) hooks.push(fn);
  else fn();
}

/** An object that stands for the write transaction `tx` is in while it runs (undefined outside one): a key for once-per-transaction work. */
export function transactionOf(tx: Tx): object | undefined {
  return commitHooks.get(tx);
}

/** The first stack frame outside the store's transaction code: which repository or engine step began it. */
function caller(origin: Error): string | undefined {
  const frames = (origin.stack ?? '').split('\n').slice(1).map((f) => f.trim());
  return frames.find((f) => !/transaction\.[jt]s/.test(f) && !/node_modules|node:/.test(f))?.replace(/^at /, '');
}

/**
 * Runs `fn` in one write transaction. On SQLite it begins IMMEDIATE so that a read-then-write cannot fail with
 * SQLITE_BUSY when another process (an `mms` command beside the service) writes in between: the write lock is
 * taken first. While another process holds it, BEGIN fails fast (busy_timeout is a few ms) and is tried again
 * after an asynchronous pause, for MMS_BUSY_WAIT in all (the SQLite dialect does this for every statement outside
 * a transaction, BEGIN included: busy-wait.ts) — the event loop, and with it the worker's lease renewal and SMTP,
 * never stands still waiting for the lock. PostgreSQL uses an ordinary transaction.
 *
 * Keep `fn` short and local: the lock is held until it returns, so it must never wait on the network (SMTP,
 * CalDAV) and the worker's transactions cover one batch of meetings at most (issue 9 §2).
 *
 * When the statement fails, the rollback's own failure is ignored and the statement's error is thrown: after a
 * lost connection the rollback fails too ("not queryable"), and the caller must see why the batch failed (the
 * server drops the open transaction itself when the connection goes).
 */
export async function writeTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const begin = db.dialect === 'postgres' ? sql`begin` : sql`begin immediate`;
  const asked = performance.now();
  const origin = debugTx ? new Error() : undefined;
  return db.kysely.connection().execute(async (conn) => {
    await begin.execute(conn);
    const began = performance.now();
    const hooks: Array<() => void> = [];
    commitHooks.set(conn, hooks);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      for (const hook of hooks) hook();
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    } finally {
      const held = performance.now() - began;
      stats.count++;
      stats.totalHeldMs += held;
      stats.longestWaitMs = Math.max(stats.longestWaitMs, began - asked);
      if (held > stats.longestHeldMs) {
        stats.longestHeldMs = held;
        if (origin) stats.longestWhere = caller(origin);
      }
    }
  });
}

/** Carries a -WhatIf result out of its transaction, which is rolled back by throwing it. */
class WhatIfRollback<T> extends Error {
  constructor(readonly result: T) {
    super('what-if rollback');
  }
}

/**
 * Runs `fn` in one write transaction exactly as {@link writeTransaction} does — the same reads, writes, locks and
 * checks — and rolls it back at its end, returning what `fn` returned (-WhatIf). Because the preview is the real
 * operation, it cannot drift from it; nothing it wrote (audit row, migration request, stored PIN hash) survives.
 * An error `fn` throws (a refusal) is thrown as the real run would throw it.
 */
export async function rolledBackTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    await writeTransaction(db, async (tx) => {
      throw new WhatIfRollback(await fn(tx));
    });
  } catch (err) {
    if (err instanceof WhatIfRollback) return err.result as T;
    throw err;
  }
  throw new Error('unreachable: a -WhatIf transaction always rolls back');
}

/** {@link writeTransaction}, or {@link rolledBackTransaction} when `whatIf` (-WhatIf). */
export function transactionFor<T>(db: Db, whatIf: boolean | undefined, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return whatIf ? rolledBackTransaction(db, fn) : writeTransaction(db, fn);
}
