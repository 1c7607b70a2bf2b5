// The Contoso directory of directory-fixture.ts plus what the migration-queue and status suites need around it:
// the test's own clock (the directory operations, the workers and `mms` all read it), meetings to migrate,
// workers with a recording logger, the raw request rows and notifications, `mms` run in-process against the same
// database, and a hook that fires when the worker reaches a given query (a SIGTERM at a chosen instant).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { sql, InsertQueryNode, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import type { TestDatabase } from './databases.js';
import { ACTOR, directoryFixture, type DirectoryFixture } from './directory-fixture.js';
import type { DirectoryContext } from '../../src/directory/index.js';
import { scheduleMeeting } from '../../src/meetings/index.js';
import { MigrationWorker, type Logger, type WorkerOptions } from '../../src/migration/index.js';
import { beatWorker } from '../../src/store/worker-repo.js';
import type { Db, MigrationRequestTable } from '../../src/store/index.js';
import { runCli } from '../../src/cli/run-cli.js';
import { CMDLETS } from '../../src/cli/cmdlets/index.js';

/** The suites' reference time: Monday 2 November 2026, 09:00 UTC. */
export const REF = Date.UTC(2026, 10, 2, 9);
export const SECOND = 1_000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Who the fixture's meetings invite: two colleagues with online mailboxes and one outside guest. */
export const ATTENDEES = ['ben@contoso.com', 'dan@contoso.com', 'guest@fabrikam.example'] as const;

export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly obj: object;
  readonly msg: string | undefined;
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface QueueFixture {
  readonly fx: DirectoryFixture;
  readonly db: Db;
  /** The database URL, for `mms` (MMS_DATABASE_URL). */
  readonly url: string;
  /** The directory context on the test's clock, with the 5-second delay. */
  readonly ctx: DirectoryContext;
  readonly tenantId: string;
  /** What every worker made by `worker()` logged. */
  readonly log: LogEntry[];
  upn(name: string): string;
  userId(name: string): Promise<string>;
  /** Schedules `count` one-hour meetings organized by `name`, a day apart from `firstStart`; returns their UIDs. */
  schedule(name: string, count: number, opts?: { firstStart?: number; attendees?: readonly string[]; subject?: string }): Promise<string[]>;
  /** A worker on the test's clock with the recording logger. */
  worker(id: string, opts?: Partial<Omit<WorkerOptions, 'db' | 'now' | 'logger' | 'workerId'>> & { db?: Db }): MigrationWorker;
  /** The request row as stored (lease fields included). */
  row(correlationId: string): Promise<MigrationRequestTable>;
  /** The user's requests, oldest first, as stored. */
  rowsOf(name: string): Promise<MigrationRequestTable[]>;
  /** Notifications per "uid recipient", over every migration. */
  notices(): Promise<Map<string, number>>;
  /** The organizer's copy of each meeting: its version and text. */
  organizerCopies(name: string): Promise<Map<string, { version: number; ics: string }>>;
  /** `mms <argv>` in-process against this database, on the test's clock (`env` adds MMS_* settings). */
  /** `mms <argv>` in this process; `stderrIsTty` makes its stderr look like a terminal (for -Wait's progress bar). */
  cli(argv: readonly string[], env?: Record<string, string>, stderrIsTty?: boolean): Promise<CliRun>;
  /** The clock leases are judged by: the database's on PostgreSQL, the test's on SQLite. */
  leaseClock(): Promise<number>;
  /** Time passes for every lease (only): each expires `ms` sooner. The database's clock cannot be set. */
  ageLeases(ms: number): Promise<void>;
  drop(): Promise<void>;
}

/**
 * A fresh database of kind `database` holding the Contoso cast. Provisioning runs on the directory fixture's clock
 * an hour before `now()`, so nothing it does is older or newer than what the test then does on its own clock.
 */
export async function queueFixture(database: TestDatabase, now: () => number): Promise<QueueFixture> {
  let url = '';
  const capturing: TestDatabase = {
    ...database,
    async fresh() {
      const f = await database.fresh();
      url = f.url;
      return f;
    },
  };
  const fx = await directoryFixture(capturing, { now: now() - HOUR });
  const { db } = fx;
  const tenantId = fx.tenant.id;
  const ctx: DirectoryContext = { db, actor: ACTOR, now, migrationDelayMs: fx.ctx.migrationDelayMs };
  const log: LogEntry[] = [];
  const logger: Logger = {
    info: (obj, msg) => log.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => log.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => log.push({ level: 'error', obj, msg }),
  };
  return {
    fx,
    db,
    url,
    ctx,
    tenantId,
    log,
    upn: fx.upn,
    userId: fx.userId,
    async schedule(name, count, opts = {}) {
      const uids: string[] = [];
      const first = opts.firstStart ?? now() + 7 * DAY;
      for (let i = 0; i < count; i++) {
        const start = first + i * DAY;
        const s = await scheduleMeeting(db, tenantId, {
          organizer: fx.upn(name),
          subject: `${opts.subject ?? `${name}'s review`} ${i + 1}`,
          start,
          end: start + HOUR,
          attendees: opts.attendees ?? ATTENDEES,
          body: 'Agenda: numbers for Q4.',
        }, now);
        uids.push(s.uid);
      }
      return uids;
    },
    worker(id, opts = {}) {
      return new MigrationWorker({ db, now, logger, workerId: id, pollMs: 5, ...opts });
    },
    async row(correlationId) {
      return db.kysely.selectFrom('migration_requests').selectAll().where('id', '=', correlationId).executeTakeFirstOrThrow();
    },
    async rowsOf(name) {
      const userId = await fx.userId(name);
      return db.kysely.selectFrom('migration_requests').selectAll().where('user_id', '=', userId)
        .orderBy('create_date').orderBy('modified_date').execute();
    },
    async notices() {
      const rows = await db.kysely.selectFrom('outbox').select(['uid', 'recipient']).execute();
      const counts = new Map<string, number>();
      for (const r of rows) counts.set(`${r.uid} ${r.recipient}`, (counts.get(`${r.uid} ${r.recipient}`) ?? 0) + 1);
      return counts;
    },
    async organizerCopies(name) {
      const userId = await fx.userId(name);
      const rows = await db.kysely.selectFrom('calendar_objects').select(['uid', 'version', 'ics']).where('mailbox_user_id', '=', userId).execute();
      return new Map(rows.map((r) => [r.uid, { version: Number(r.version), ics: r.ics }]));
    },
    async leaseClock() {
      if (db.dialect === 'sqlite') return now();
      const r = await sql<{ ms: number }>`select (extract(epoch from now()) * 1000)::bigint as ms`.execute(db.kysely);
      return Number(r.rows[0]?.ms);
    },
    async ageLeases(ms) {
      await db.kysely.updateTable('migration_requests').set({ lease_expires_at: sql<number>`lease_expires_at - ${ms}` }).where('lease_expires_at', 'is not', null).execute();
    },
    async cli(argv, extraEnv = {}, stderrIsTty = false) {
      // The test plays the mms serve worker (worker().runOnce()): it beats as one, so that commands do not warn that
      // no worker runs (issue 9 §3; test/worker-heartbeat.test.ts tests that warning).
      await beatWorker(db.kysely, { id: 'queue-fixture', host: 'test', pid: process.pid, startedAt: now(), now: now(), beatMs: 1000 });
      const out = capture();
      const err = capture();
      if (stderrIsTty) Object.assign(err.stream, { isTTY: true });
      const code = await runCli([...argv], {
        stdout: out.stream,
        stderr: err.stream,
        isTty: false,
        now,
        env: { MMS_DATABASE_URL: url, MMS_ACTOR: ACTOR, TZ: 'UTC', ...extraEnv },
      }, CMDLETS);
      return { code, stdout: out.text(), stderr: err.text() };
    },
    drop: () => fx.drop(),
  };
}

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

/** The map `notices()` must equal when every attendee of every meeting was told exactly once. */
export function oncePerAttendee(uids: readonly string[], attendees: readonly string[] = ATTENDEES): Map<string, number> {
  return new Map(uids.flatMap((uid) => attendees.map((a) => [`${uid} ${a}`, 1] as const)));
}

/**
 * The same database, seen through a handle that calls `fire` (once) when a query inserts into `table` — before
 * the query runs, so the caller acts "while that write is in flight" (the write itself still commits).
 */
export function onInsertInto(db: Db, table: string, fire: () => void): Db {
  let fired = false;
  const plugin: KyselyPlugin = {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      const node = args.node;
      if (!fired && InsertQueryNode.is(node) && node.into?.table.identifier.name === table) {
        fired = true;
        fire();
      }
      return node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      return args.result;
    },
  };
  return { kysely: db.kysely.withPlugin(plugin), dialect: db.dialect, close: () => db.close() };
}

/** Runs `fn` on a fresh Contoso fixture whose every clock reads `now()`; drops the database afterwards. */
export async function withQueue(database: TestDatabase, now: () => number, fn: (q: QueueFixture) => Promise<void>): Promise<void> {
  const q = await queueFixture(database, now);
  try {
    await fn(q);
  } finally {
    await q.drop();
  }
}

/** The value, asserted present (`what` names it in the failure). */
export function required<T>(value: T | null | undefined, what: string): T {
  assert.ok(value !== null && value !== undefined, `expected ${what}`);
  return value;
}
