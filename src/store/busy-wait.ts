import { setTimeout as sleep } from 'node:timers/promises';
import type SQLite from 'better-sqlite3';
import { SqliteDialect, type CompiledQuery, type DatabaseConnection, type Dialect, type Driver, type QueryResult, type TransactionSettings } from 'kysely';
import { MmsError } from '../domain/errors.js';

/**
 * SQLite's own busy handler (`busy_timeout`) sleeps inside the statement: better-sqlite3 is synchronous, so the
 * whole process — timers, the worker's lease renewal, SMTP replies — stands still while it waits. It is kept this
 * short (tens of ms, a few of SQLite's own retries) and the rest of the wait happens here, between the statement's
 * tries, with the event loop free (issue 9 §2).
 */
export const BUSY_TIMEOUT_MS = 20;

/** Default of MMS_BUSY_WAIT: how long, in all, a statement waits for another process's write lock. */
export const DEFAULT_BUSY_WAIT_MS = 30_000;

/**
 * Pause between tries, doubling from 2 ms to 40 ms with ±50% jitter: the worker lets go of the lock between
 * batches for as long as it takes to plan the next one (milliseconds), so a waiter must look often to get in
 * during such a gap; each look costs one failed BEGIN plus BUSY_TIMEOUT_MS.
 */
const FIRST_PAUSE_MS = 2;
const MAX_PAUSE_MS = 40;

/**
 * MMS_DEBUG=tx (or a list such as 1,tx): a line on stderr when a statement starts waiting for the lock (tests wait
 * for it), and the write-transaction figures at exit (transaction.ts).
 */
export const debugTx = (process.env.MMS_DEBUG ?? '').split(',').map((s) => s.trim()).includes('tx');

/** SQLite's "database is locked": another connection (the worker) holds the write lock. */
export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || /database is locked/.test((err as Error)?.message ?? '');
}

/** What an admin reads when the lock stayed taken for the whole wait: the database is busy, not misconfigured. */
export function busyError(file: string): MmsError {
  return new MmsError('Transient', `the SQLite database ${file} stayed busy: another process (the mms worker, or another command) held its write lock for the whole wait; try again in a moment`);
}

/**
 * Runs `attempt` until it does not fail with SQLITE_BUSY, pausing asynchronously between tries; after `waitMs` in
 * all, throws {@link busyError}. Only for work that is safe to run again after SQLITE_BUSY: a statement that got
 * SQLITE_BUSY changed nothing (it could not start), and outside a transaction nothing else is undone by it.
 */
export async function retryWhileBusy<T>(attempt: () => T | Promise<T>, file: string, waitMs: number, safeToRetry: () => boolean = () => true): Promise<T> {
  let started: number | undefined;
  let pause = FIRST_PAUSE_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!isBusyError(err) || !safeToRetry()) throw err;
      const now = performance.now();
      if (started === undefined) {
        started = now - BUSY_TIMEOUT_MS; // the first try already waited its busy_timeout
        if (debugTx) process.stderr.write(`mms: waiting for the write lock on ${file} (another process holds it)\n`);
      }
      if (now - started >= waitMs) throw Object.assign(busyError(file), { cause: err });
      const wait = Math.min(pause * (0.5 + Math.random()), waitMs - (now - started));
      await sleep(Math.max(1, wait));
      pause = Math.min(MAX_PAUSE_MS, pause * 2);
    }
  }
}

/**
 * Kysely's SQLite dialect whose statements outside a transaction wait for the write lock asynchronously
 * ({@link retryWhileBusy}). That covers `begin immediate` — so writeTransaction waits for the lock between tries
 * instead of inside SQLite's busy handler — and every lone statement (a lease renewal, a progress save, a ledger
 * row, an `mms` command's single write). A statement inside a transaction is never retried: in WAL mode a
 * transaction begun IMMEDIATE already holds the write lock and reads never wait for writers, so SQLITE_BUSY there
 * would mean something else, and running one statement of a transaction again is not safe in general.
 */
export function busyWaitingDialect(handle: SQLite.Database, file: string, waitMs: number): Dialect {
  const base = new SqliteDialect({ database: handle });
  return {
    createAdapter: () => base.createAdapter(),
    createIntrospector: (db) => base.createIntrospector(db),
    createQueryCompiler: () => base.createQueryCompiler(),
    createDriver: () => new BusyWaitingDriver(base.createDriver(), handle, file, waitMs),
  };
}

class BusyWaitingDriver implements Driver {
  constructor(private readonly inner: Driver, private readonly handle: SQLite.Database, private readonly file: string, private readonly waitMs: number) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const conn = await this.inner.acquireConnection();
    const { handle, file, waitMs } = this;
    return {
      executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
        if (handle.inTransaction) return conn.executeQuery<R>(q);
        // Not again if the failed statement left a transaction open (a COMMIT that got SQLITE_BUSY outside WAL mode
        // keeps its writes pending): only a statement that changed nothing is run a second time.
        return retryWhileBusy(() => conn.executeQuery<R>(q), file, waitMs, () => !handle.inTransaction);
      },
      streamQuery: <R>(q: CompiledQuery, chunkSize?: number) => conn.streamQuery<R>(q, chunkSize),
    };
  }

  beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(conn, settings);
  }

  commitTransaction(conn: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(conn);
  }

  rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(conn);
  }

  releaseConnection(conn: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(conn);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
