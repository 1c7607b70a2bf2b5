// Query plans of the engine's own statements, on SQLite and PostgreSQL (issue 13 §3). The SQL is never copied by
// hand: a Kysely plugin records every query the real code sends through a `Db` (`tracedDb`), each is compiled
// exactly as Kysely compiles it for execution, and EXPLAIN runs on that text with the same parameters. A
// statement that reads one of the growing tables (GROWING) must reach it through an index, never by a scan.
// Used by test/query-plans.test.ts and by `npm run bench -- --growth` (which prints the same checks at 100,000
// meetings).
import {
  CompiledQuery, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type UnknownRow,
} from 'kysely';
import type { Db } from '../../src/store/index.js';
import type { Tenant } from '../../src/domain/directory.js';
import { BuiltinMailboxStore, openUserMailbox } from '../../src/mailbox/index.js';
import { DEFAULT_RETRY, migrationStatusPage, migrationSummary, outboxPage, transactionHistoryPage } from '../../src/migration/index.js';
import { claimRequests, releaseRequest } from '../../src/store/queue-repo.js';
import { countMeetings, firstFailure } from '../../src/store/ledger-repo.js';

/** The tables that grow with meetings and migrations: no statement may scan them. */
export const GROWING = ['calendar_objects', 'migration_requests', 'outbox', 'migration_meetings'] as const;

export interface Statement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/** Records the statements sent through a Db (while `on`), compiled as Kysely compiles them to run them. */
class Recorder implements KyselyPlugin {
  on = true;
  readonly statements: Statement[] = [];
  constructor(private readonly base: Db) {}

  transformQuery(args: PluginTransformQueryArgs) {
    if (this.on) {
      // This plugin is the last one: the node is the one the executor compiles and sends.
      const c = this.base.kysely.getExecutor().compileQuery(args.node, args.queryId);
      this.statements.push({ sql: c.sql, parameters: c.parameters });
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/** A Db whose every statement (transactions included) is recorded into `statements`. */
export function tracedDb(db: Db): { db: Db; statements: Statement[]; recorder: Recorder } {
  const recorder = new Recorder(db);
  return { db: { kysely: db.kysely.withPlugin(recorder), dialect: db.dialect, close: () => db.close() }, statements: recorder.statements, recorder };
}

/** The growing tables a statement names (BEGIN, COMMIT and other tables' statements name none). */
export function growingTablesOf(s: string): string[] {
  return GROWING.filter((t) => new RegExp(`(^|[^\\w])"?${t}"?([^\\w]|$)`).test(s));
}

export interface PlanVerdict {
  readonly sql: string;
  /** The plan, one line per step (SQLite's EXPLAIN QUERY PLAN details; PostgreSQL's node types with relation and index). */
  readonly plan: readonly string[];
  /** Growing tables the plan reads by a full scan (a Seq Scan, SQLite's SCAN of the table or of a whole index). */
  readonly scans: readonly string[];
  /** Whether some step reaches a growing table through an index (or its primary key). */
  readonly indexed: boolean;
}

const KEYWORDS = new Set(['where', 'join', 'inner', 'left', 'right', 'on', 'set', 'values', 'order', 'group', 'limit', 'using', 'select', 'as', 'returning', 'union', 'for', 'default']);

/** Alias -> table for the growing tables in a statement (`from migration_requests r`, `"calendar_objects" as "c"`). */
function aliasesOf(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of GROWING) {
    out.set(t, t);
    const re = new RegExp(`"?\\b${t}\\b"?\\s+(?:as\\s+)?"?([A-Za-z_][\\w]*)"?`, 'gi');
    for (const m of s.matchAll(re)) {
      const alias = (m[1] as string).toLowerCase();
      if (!KEYWORDS.has(alias)) out.set(alias, t);
    }
  }
  return out;
}

async function sqlitePlan(db: Db, st: Statement): Promise<PlanVerdict> {
  const r = await db.kysely.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${st.sql}`, [...st.parameters]));
  const plan = r.rows.map((x) => x.detail);
  const names = aliasesOf(st.sql);
  const scans: string[] = [];
  let indexed = false;
  for (const d of plan) {
    const scan = /^SCAN (\S+)/.exec(d);
    if (scan && names.has((scan[1] as string).toLowerCase())) scans.push(`${names.get((scan[1] as string).toLowerCase())}: ${d}`);
    const search = /^SEARCH (\S+) USING/.exec(d);
    if (search && names.has((search[1] as string).toLowerCase())) indexed = true;
  }
  return { sql: st.sql, plan, scans, indexed };
}

interface PgNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly Plans?: readonly PgNode[];
}

async function postgresPlan(db: Db, st: Statement): Promise<PlanVerdict> {
  const r = await db.kysely.executeQuery<{ 'QUERY PLAN': Array<{ Plan: PgNode }> }>(CompiledQuery.raw(`explain (format json) ${st.sql}`, [...st.parameters]));
  const root = (r.rows[0]?.['QUERY PLAN'] as Array<{ Plan: PgNode }>)[0]?.Plan as PgNode;
  const plan: string[] = [];
  const scans: string[] = [];
  let indexed = false;
  const growing = new Set<string>(GROWING);
  const walk = (n: PgNode, depth: number) => {
    plan.push(`${'  '.repeat(depth)}${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`);
    if (n['Node Type'] === 'Seq Scan' && n['Relation Name'] && growing.has(n['Relation Name'])) scans.push(`${n['Relation Name']}: Seq Scan`);
    if (n['Index Name'] && /^(Index Scan|Index Only Scan|Bitmap Index Scan)$/.test(n['Node Type'])) {
      // A Bitmap Index Scan names no relation: the index belongs to a growing table when its name says so (every index does).
      const rel = n['Relation Name'] ?? GROWING.find((t) => (n['Index Name'] as string).startsWith(t.replace(/s$/, '')));
      if (!rel || growing.has(rel)) indexed = true;
    }
    for (const c of n.Plans ?? []) walk(c, depth + 1);
  };
  walk(root, 0);
  return { sql: st.sql, plan, scans, indexed };
}

/** The plan of one recorded statement on `db` (the untraced handle), judged. */
export function explain(db: Db, st: Statement): Promise<PlanVerdict> {
  return db.dialect === 'postgres' ? postgresPlan(db, st) : sqlitePlan(db, st);
}

/** Distinct statements (by text) that name a growing table, in first-seen order. */
export function growingStatements(statements: readonly Statement[]): Statement[] {
  const seen = new Map<string, Statement>();
  for (const s of statements) if (growingTablesOf(s.sql).length && !seen.has(s.sql)) seen.set(s.sql, s);
  return [...seen.values()];
}

export interface LookupCheck {
  readonly name: string;
  readonly verdicts: readonly PlanVerdict[];
  /** Every statement free of scans, and at least one reached a growing table through an index. */
  readonly ok: boolean;
}

/** What the named lookups run on: a tenant, one of its organizers with meetings, and a finished request of theirs. */
export interface LookupSubject {
  readonly tenant: Tenant;
  readonly organizerId: string;
  readonly organizerUpn: string;
  /** A request whose ledger to read (any of the tenant's). */
  readonly correlationId: string;
}

/**
 * The engine's lookups that must stay indexed as data grows, each run through the real code on a traced handle:
 * the organizer's meetings (what migrate-user lists), an attendee's copy by (owner, UID) alone and in a batch
 * (readCopies, as write-batch reads them), the queue claim (a request is queued, claimed as the worker claims —
 * no `only`, its retry limit — and given back), the ledger of one request, and Get-CsMeetingMigrationStatus,
 * -SummaryOnly, Get-CsMeetingMigrationTransactionHistory and Get-MmsOutbox of the organizer.
 * Leaves the database as it found it but for the claim's attempt row.
 */
export async function checkLookups(db: Db, s: LookupSubject, now: number): Promise<LookupCheck[]> {
  const t = tracedDb(db);
  const checks: LookupCheck[] = [];
  const phase = async (name: string, fn: () => Promise<unknown>) => {
    const from = t.statements.length;
    t.recorder.on = true;
    await fn();
    t.recorder.on = false;
    const verdicts: PlanVerdict[] = [];
    for (const st of growingStatements(t.statements.slice(from))) verdicts.push(await explain(db, st));
    checks.push({ name, verdicts, ok: verdicts.length > 0 && verdicts.every((v) => !v.scans.length) && verdicts.some((v) => v.indexed) });
  };
  t.recorder.on = false;
  const mailbox = await openUserMailbox(t.db, s.tenant.id, s.organizerId, { now: () => now });
  let listed: Array<{ uid: string }> = [];
  await phase('organizer\'s meetings (listOrganized)', async () => {
    listed = await mailbox.listOrganized([s.organizerUpn], Number.MIN_SAFE_INTEGER);
  });
  const uid = listed[0]?.uid;
  if (!uid) throw new Error(`query plans: ${s.organizerUpn} organizes no meeting to look up copies of`);
  // Whose copies to read: every other mailbox holding the meeting (setup, not checked).
  const holders = (await db.kysely.selectFrom('calendar_objects').select('mailbox_user_id').where('uid', '=', uid).where('mailbox_user_id', '<>', s.organizerId).execute())
    .map((r) => r.mailbox_user_id);
  if (!holders.length) throw new Error(`query plans: nobody holds a copy of ${uid}`);
  await phase('attendee copy by owner and UID (get)', () => new BuiltinMailboxStore(t.db.kysely, s.tenant.id, () => now).get(holders[0] as string, uid));
  await phase('attendee copies of a batch (readCopies)', () =>
    mailbox.writeBatch('query-plans', () => [], (unit) => unit.readCopies(holders.map((h) => ({ userId: h, uid })))));
  await phase('queue claim (claimRequests)', async () => {
    const workerId = `query-plans-${process.pid}`;
    const claimed = await claimRequests(t.db, workerId, now, 60_000, 1, undefined, DEFAULT_RETRY.maxAttempts);
    for (const c of claimed) await releaseRequest(db, c.correlationId, workerId, now);
  });
  await phase('ledger of a request (countMeetings, firstFailure)', async () => {
    await countMeetings(t.db.kysely, s.correlationId);
    await firstFailure(t.db.kysely, s.correlationId);
  });
  await phase('Get-CsMeetingMigrationStatus (tenant, first 50)', () => migrationStatusPage(t.db, s.tenant, {}, { first: 50 }));
  await phase('Get-CsMeetingMigrationStatus -Identity', () => migrationStatusPage(t.db, s.tenant, { identity: s.organizerUpn }));
  await phase('Get-CsMeetingMigrationStatus -SummaryOnly', () => migrationSummary(t.db, s.tenant));
  await phase('Get-CsMeetingMigrationTransactionHistory -Identity', () => transactionHistoryPage(t.db, s.tenant, { identity: s.organizerUpn }, { first: 50 }));
  await phase('Get-MmsOutbox -Identity', () => outboxPage(t.db, s.tenant, { identity: s.organizerUpn }, { first: 50 }));
  return checks;
}

/** One line per check: `yes`/`NO`, and for a NO the scans. */
export function formatChecks(checks: readonly LookupCheck[]): string[] {
  return checks.map((c) => `${c.ok ? 'yes' : 'NO '}  ${c.name}${c.ok ? '' : `: ${c.verdicts.flatMap((v) => v.scans).join('; ') || (c.verdicts.length ? 'no index used' : 'no statement recorded')}`}`);
}
