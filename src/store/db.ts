import path from 'node:path';
import SQLite from 'better-sqlite3';
import type pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { writeTransaction } from './transaction.js';
import { BUSY_TIMEOUT_MS, busyError, busyWaitingDialect, isBusyError, retryWhileBusy } from './busy-wait.js';
import { WAL_AUTOCHECKPOINT_PAGES, WAL_SIZE_LIMIT_BYTES, backgroundNudges } from './checkpoint.js';
import { startBackgroundCheckpoints } from './background-checkpoints.js';
import { sqliteFullError } from './disk-full.js';
import { isReadOnlyError, prepareSqliteFile, readOnlyError } from './sqlite-file.js';
import { busyWaitMs, dialectOf, redact } from '../config.js';
import { MmsError } from '../domain/errors.js';
import type { Database } from './schema.js';
import * as m001 from './migrations/001-initial.js';
import * as m002 from './migrations/002-migration-engine.js';
import * as m003 from './migrations/003-time-zones.js';
import * as m004 from './migrations/004-itip-per-recipient.js';
import * as m005 from './migrations/005-lease-holder.js';
import * as m006 from './migrations/006-attendee-copy-damage.js';
import * as m007 from './migrations/007-smtp-delivery.js';
import * as m008 from './migrations/008-mailbox-hosts.js';
import * as m009 from './migrations/009-outbox-lease-holder.js';
import * as m010 from './migrations/010-write-intents.js';
import * as m011 from './migrations/011-worker-heartbeats.js';
import * as m012 from './migrations/012-api-tokens.js';
import * as m013 from './migrations/013-web-sign-in.js';
import * as m014 from './migrations/014-telemetry.js';
import * as m015 from './migrations/015-rate-index.js';
import * as m016 from './migrations/016-telemetry-key-check.js';
import * as m017 from './migrations/017-telemetry-report-index.js';
import * as m018 from './migrations/018-meeting-types.js';
import * as m019 from './migrations/019-teams-upgrade.js';
import * as m020 from './migrations/020-user-notices.js';
import * as m021 from './migrations/021-growth-indexes.js';
import * as m022 from './migrations/022-tenant-columns.js';
import * as m023 from './migrations/023-claim-index.js';
import * as m024 from './migrations/024-lz4-text.js';

export type Dialect = 'sqlite' | 'postgres';
export { busyError, isBusyError } from './busy-wait.js';

/** An open database: the Kysely handle and which engine is behind it (only `store/` asks). */
export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

/** Numbered schema migrations, applied in order at start. */
const MIGRATIONS: Record<string, { up(db: Kysely<any>, dialect: Dialect): Promise<void> }> = {
  '001-initial': m001,
  '002-migration-engine': m002,
  '003-time-zones': m003,
  '004-itip-per-recipient': m004,
  '005-lease-holder': m005,
  '006-attendee-copy-damage': m006,
  '007-smtp-delivery': m007,
  '008-mailbox-hosts': m008,
  '009-outbox-lease-holder': m009,
  '010-write-intents': m010,
  '011-worker-heartbeats': m011,
  '012-api-tokens': m012,
  '013-web-sign-in': m013,
  '014-telemetry': m014,
  '015-rate-index': m015,
  '016-telemetry-key-check': m016,
  '017-telemetry-report-index': m017,
  '018-meeting-types': m018,
  '019-teams-upgrade': m019,
  '020-user-notices': m020,
  '021-growth-indexes': m021,
  '022-tenant-columns': m022,
  '023-claim-index': m023,
  '024-lz4-text': m024,
};

// What a PostgreSQL Db was opened with: a worker opens one more connection of its own to LISTEN (wake-listener.ts).
const pgSettings = new WeakMap<Db, { readonly url: string; readonly applicationName: string }>();

/**
 * Where a PostgreSQL database's LISTEN connection goes (`listenUrl` when it was opened with one, else its own URL)
 * and the application_name it was opened with; undefined for SQLite (or a Db not made here).
 */
export function pgSettingsOf(db: Db): { readonly url: string; readonly applicationName: string } | undefined {
  return pgSettings.get(db);
}

// SQLite: the connection's own counter of other connections' commits, read without Kysely (wake-watch.ts asks it
// 20 times a second while the worker is idle: through the query pipeline that cost as much as the rest of idling).
const dataVersions = new WeakMap<Db, () => number>();

/** SQLite: reads `PRAGMA data_version` (changes when another connection commits); undefined for PostgreSQL. */
export function dataVersionOf(db: Db): (() => number) | undefined {
  return dataVersions.get(db);
}

/** Resolves `sqlite:PATH`, `sqlite://PATH` or a plain path to a file path (or `:memory:`). */
export function sqlitePath(url: string): string {
  const p = url.replace(/^sqlite:(\/\/)?/i, '');
  return p === ':memory:' ? p : path.resolve(p);
}

// int8 (bigint) and numeric come back from pg as strings; our bigints are epoch ms and counters that fit a double.
const pgTypes = (driver: typeof pg) => ({
  getTypeParser(oid: number, format?: any) {
    if (oid === 20) return (v: string) => Number(v);
    return driver.types.getTypeParser(oid, format);
  },
});

/**
 * Opens the database a URL names and brings its schema up to date.
 * PostgreSQL URLs may carry `?options=-c search_path=…` to work in one schema (the tests do).
 * `busyWaitMs` (SQLite): how long a statement waits in all for another process's write lock (default
 * MMS_BUSY_WAIT); the wait leaves the event loop free (busy-wait.ts). `backgroundCheckpoints` (SQLite, a long-running
 * process: `mms serve`): checkpoints run in a thread of their own until close() (background-checkpoints.ts).
 */
export async function openDatabase(url: string, opts: { poolSize?: number; applicationName?: string; busyWaitMs?: number; listenUrl?: string; backgroundCheckpoints?: boolean } = {}): Promise<Db> {
  const dialect = dialectOf(url);
  let kysely: Kysely<Database>;
  let sqlite: { readonly handle: SQLite.Database; readonly file: string } | undefined;
  if (dialect === 'postgres') {
    // application_name names this process's backends in pg_stat_activity (an operator, or the chaos test, can
    // find and end exactly them).
    // Imported here, not at the top: a cmdlet on the embedded SQLite default never loads the driver (it costs a cold
    // `mms` call ~30 ms, half of it the HTTP client that pg's start-up check wakes in node).
    const { default: driver } = await import('pg');
    const pool = new driver.Pool({ connectionString: url, max: opts.poolSize ?? 10, types: pgTypes(driver) as any, application_name: opts.applicationName ?? `mms-${process.pid}` });
    pool.on('error', () => undefined); // an idle client's lost connection is reported on the next query instead
    // A client checked out (a transaction in hand) has no pool listener: without one, a lost connection is an
    // unhandled 'error' event that kills the process. The query in flight rejects with the same failure, and the
    // pool drops the broken client when it is released, so listening is all that is needed.
    pool.on('connect', (client) => client.on('error', () => undefined));
    kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    const file = sqlitePath(url);
    if (file !== ':memory:') prepareSqliteFile(file);
    const waitMs = opts.busyWaitMs ?? busyWaitMs();
    let handle: SQLite.Database;
    try {
      handle = new SQLite(file);
      // Short: SQLite's busy handler blocks the whole process while it waits (see busy-wait.ts for the rest).
      handle.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // Turning a new file to WAL takes the lock for a moment: waited for like any statement.
      const h = handle;
      await retryWhileBusy(() => h.pragma('journal_mode = WAL'), file, waitMs).catch((err: unknown) => {
        h.close();
        throw err;
      });
    } catch (err) {
      if (isReadOnlyError(err)) throw readOnlyError(file);
      if (err instanceof MmsError) throw err;
      throw new MmsError('Config', `cannot open SQLite database ${file}: ${(err as Error).message}; check MMS_DATABASE_URL and the folder's permissions`);
    }
    handle.pragma('synchronous = NORMAL');
    handle.pragma('foreign_keys = ON');
    // Deleted rows (an opt-out's error reports, pruned telemetry) are overwritten, not left readable in free pages.
    handle.pragma('secure_delete = ON');
    // A migration rewrites objects spread over the whole file: a 32 MB page cache keeps that from turning into
    // re-reads. The WAL stays small (see checkpoint.ts): checkpoints every ~4 MB, and the file cut back to 8 MB
    // when it starts over, so a small disk holds the database and its log.
    handle.pragma('cache_size = -32768');
    handle.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    handle.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    kysely = new Kysely<Database>({ dialect: busyWaitingDialect(withStatementCache(handle, file), file, waitMs) });
    sqlite = { handle, file };
  }
  const db: Db = { kysely, dialect, close: () => kysely.destroy() };
  if (dialect === 'postgres') pgSettings.set(db, { url: opts.listenUrl ?? url, applicationName: opts.applicationName ?? `mms-${process.pid}` });
  else if (sqlite) {
    const stmt = sqlite.handle.prepare('pragma data_version').pluck();
    dataVersions.set(db, () => Number(stmt.get()));
  }
  try {
    await migrate(db);
  } catch (err) {
    await kysely.destroy().catch(() => undefined);
    if (err instanceof MmsError) throw err;
    if (sqlite && isReadOnlyError(err)) throw readOnlyError(sqlite.file);
    if (sqlite && isBusyError(err)) throw busyError(sqlite.file);
    const msg = (err as Error).message ?? String(err);
    if (isConnectionLost(err)) {
      throw new MmsError('Transient', `the database at ${redact(url)} is not reachable (${msg}); start the database server or fix MMS_DATABASE_URL`);
    }
    throw new MmsError('Config', `cannot prepare the database at ${redact(url)}: ${msg}; check MMS_DATABASE_URL and that the server is running`);
  }
  if (opts.backgroundCheckpoints && sqlite && sqlite.file !== ':memory:') {
    const checkpoints = startBackgroundCheckpoints(sqlite.handle, sqlite.file);
    backgroundNudges.set(db, checkpoints.nudge);
    const closeConnection = db.close;
    db.close = async () => {
      await checkpoints.stop();
      await closeConnection();
    };
  }
  return db;
}

/**
 * Applies the numbered migrations not applied yet, each recorded in `mms_schema_migrations`, all in one write
 * transaction. On PostgreSQL an advisory lock makes worker processes starting together take turns. (Our own
 * runner rather than Kysely's Migrator: that one lists the tables of every schema in the database, which fails
 * while another schema is being dropped.)
 */
async function migrate(db: Db): Promise<void> {
  // Read first: an up-to-date database is opened without taking the write lock, so an `mms` command does not wait
  // behind the worker's write transaction (or fail with "database is locked") just to learn there is nothing to do.
  if (!(await migrationsPending(db))) return;
  await writeTransaction(db, async (tx) => {
    if (db.dialect === 'postgres') await sql`select pg_advisory_xact_lock(7262611)`.execute(tx);
    await sql`create table if not exists mms_schema_migrations (name text primary key, applied_at ${sql.raw(db.dialect === 'postgres' ? 'bigint' : 'integer')} not null)`.execute(tx);
    const done = new Set((await sql<{ name: string }>`select name from mms_schema_migrations`.execute(tx)).rows.map((r) => r.name));
    for (const [name, m] of Object.entries(MIGRATIONS)) {
      if (done.has(name)) continue;
      await m.up(tx, db.dialect);
      await sql`insert into mms_schema_migrations (name, applied_at) values (${name}, ${Date.now()})`.execute(tx);
    }
  });
}

/** Whether any numbered migration is not applied yet (also when the bookkeeping table does not exist yet). */
async function migrationsPending(db: Db): Promise<boolean> {
  let rows: Array<{ name: string }>;
  try {
    rows = (await sql<{ name: string }>`select name from mms_schema_migrations`.execute(db.kysely)).rows;
  } catch {
    return true;
  }
  const done = new Set(rows.map((r) => r.name));
  return Object.keys(MIGRATIONS).some((name) => !done.has(name));
}

/**
 * Kysely's SQLite driver prepares every statement anew; a migration runs the same few statements thousands of
 * times. Keep the most recent prepared statements (better-sqlite3 runs them synchronously, so one statement is
 * never used by two queries at once). Each statement also turns SQLite's bare SQLITE_FULL into a DiskFullError
 * naming `file` and the space free and needed (every query Kysely sends goes through here).
 */
function withStatementCache(handle: SQLite.Database, file: string, size = 256): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = handle.prepare.bind(handle);
  handle.prepare = ((source: string) => {
    let stmt = cache.get(source);
    if (stmt) {
      cache.delete(source); // most recently used goes last
    } else {
      stmt = explainFull(prepare(source), handle, file);
      if (cache.size >= size) cache.delete(cache.keys().next().value as string);
    }
    cache.set(source, stmt);
    return stmt;
  }) as typeof handle.prepare;
  return handle;
}

// SQLSTATE class 08 (connection exception) and the shutdown codes a server sends its backends when it stops, is
// killed by an admin (pg_terminate_backend) or is still starting up.
const LOST_SQLSTATE = /^(08...|57P01|57P02|57P03)$/;
const LOST_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// node-postgres reports a socket that closed under it with plain Errors that carry no code.
const LOST_MESSAGE = /^(Connection terminated|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect)/;

/**
 * Whether an error means the database connection is gone (server stopped, restarted, unreachable, or this
 * backend was terminated) rather than anything about the statement: the work in hand is worth doing again once
 * the database answers. Looks through `cause` chains and AggregateErrors (a connect that tried several addresses).
 */
export function isConnectionLost(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (LOST_SQLSTATE.test(e.code) || LOST_ERRNO.has(e.code))) return true;
  if (typeof e.message === 'string' && LOST_MESSAGE.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isConnectionLost(x, depth + 1))) return true;
  return isConnectionLost(e.cause, depth + 1);
}

/** One trivial round trip: resolves when the database answers (a worker waiting out an outage asks with it). */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db.kysely);
}

/** Wraps a statement's run/all/get so that SQLITE_FULL comes out as a DiskFullError (see sqliteFullError). */
function explainFull(stmt: SQLite.Statement, handle: SQLite.Database, file: string): SQLite.Statement {
  for (const name of ['run', 'all', 'get'] as const) {
    const original = stmt[name] as (...args: unknown[]) => unknown;
    (stmt as unknown as Record<string, unknown>)[name] = function (this: SQLite.Statement, ...args: unknown[]) {
      try {
        return original.apply(this, args);
      } catch (err) {
        if ((err as { code?: unknown }).code === 'SQLITE_FULL') throw sqliteFullError(handle, file);
        if (isReadOnlyError(err)) throw readOnlyError(file);
        throw err;
      }
    };
  }
  return stmt;
}

