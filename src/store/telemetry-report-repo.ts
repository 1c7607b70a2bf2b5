// The reads behind Get-MmsTelemetryReport (issue 11 §5): aggregates of a tenant's telemetry per (group, UTC day)
// cell, by when the events happened (event_time, indexed by migration 017), and the figures of a set of cells that
// report.ts let through. Only counts and sums leave this file, never a user's or device's pseudonym. A group is one
// text key (`GroupKey`) so that the same expression selects a set of groups again.
import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db.js';
import { USAGE_COUNT_FIELDS } from './telemetry-repo.js';

export type ReportTable = 'telemetry_census' | 'telemetry_usage' | 'telemetry_errors';
export type GroupKey = 'All' | 'AppVersion' | 'OsName' | 'Language' | 'Day';

export const DAY_MS = 86_400_000;

/** The usage counts ingest.ts stores in the `counts` JSON, summed per group. */

export interface ReportWindow {
  readonly db: Db;
  readonly table: ReportTable;
  readonly tenantId: string;
  readonly groupBy: GroupKey;
  readonly start: number;
  readonly end: number;
}

/**
 * The group expression, as text on both databases ('iPhoneiOS', 'en-us', a day number). An app version is
 * '<length of the app name>:<app name> <version>': the schema allows spaces in both, and without the length
 * "A B"+"C" and "A"+"B C" would be one group (appVersionText strips it for display).
 */
function groupExpr(g: GroupKey): RawBuilder<string> {
  switch (g) {
    case 'All': return sql<string>`'All'`;
    case 'AppVersion': return sql<string>`cast(length(app_name) as text) || ':' || app_name || ' ' || app_version`;
    case 'OsName': return sql<string>`os_name`;
    case 'Language': return sql<string>`user_language`;
    case 'Day': return sql<string>`cast(event_time / ${sql.lit(DAY_MS)} as text)`;
  }
}

/** 'SkypeDesktop 16.0' of an AppVersion group key. */
export const appVersionText = (key: string): string => key.replace(/^\d+:/, '');

const dayNumber = sql<number>`cast(event_time / ${sql.lit(DAY_MS)} as integer)`;

/** Cells by UTC day number: the groups of that day. */
export type CellSet = ReadonlyMap<number, readonly string[]>;

function where(w: ReportWindow, cells?: CellSet): RawBuilder<unknown> {
  const list = (keys: readonly string[]) => sql.join(keys.map((k) => sql`${k}`));
  const pick = !cells ? sql``
    : sql` and (${sql.join([...cells].map(([d, gs]) => sql`(event_time >= ${d * DAY_MS} and event_time < ${(d + 1) * DAY_MS} and ${groupExpr(w.groupBy)} in (${list(gs)}))`), sql` or `)})`;
  return sql`tenant_id = ${w.tenantId} and event_time >= ${w.start} and event_time < ${w.end}${pick}`;
}

const n = (v: unknown): number => Number(v ?? 0);

/**
 * Whom a cell counts for MinGroupSize, as `units` and `anonymous`: census its users; usage its devices (usage
 * carries no user identifier, so a device is the finest unit it has); error reports their users or, when none of
 * them has one (the Meetings app and the join launcher send none), their devices. A group with some named users
 * counts those alone, so that one named user cannot hide among anonymous devices.
 */
function unitColumns(table: ReportTable): RawBuilder<unknown> {
  if (table === 'telemetry_census') return sql`count(distinct user_hash) as units, 0 as anonymous`;
  if (table === 'telemetry_usage') return sql`count(distinct device_hash) as units, 0 as anonymous`;
  return sql`count(distinct user_hash) as units, count(distinct case when user_hash is null then device_hash end) as anonymous`;
}

type UnitRow = { epoch: unknown; units: unknown; anonymous: unknown };

/**
 * The size of rows grouped by epoch: a user is a new pseudonym after -RotateKey, so it is the largest epoch's count,
 * never a sum that would count one person twice.
 */
function sizeOf(rows: readonly UnitRow[]): number {
  const units = Math.max(0, ...rows.map((r) => n(r.units)));
  return units > 0 ? units : Math.max(0, ...rows.map((r) => n(r.anonymous)));
}

/** A count field of the `counts` JSON as a number (absent: no row's worth). */
function countField(db: Db, field: string): RawBuilder<number> {
  return db.dialect === 'postgres' ? sql<number>`cast(cast(counts as jsonb) ->> ${field} as bigint)` : sql<number>`json_extract(counts, ${`$.${field}`})`;
}

/** Each kind's sums, named as the report's columns: they add up across cells and epochs. */
function sums(w: ReportWindow): RawBuilder<unknown> {
  if (w.table === 'telemetry_census') return sql`count(*) as "Events", sum(sign_in_attempts) as "SignInAttempts", sum(sign_in_failures) as "SignInFailures"`;
  if (w.table === 'telemetry_usage') return sql`count(*) as "Events", ${sql.join(USAGE_COUNT_FIELDS.map((f) => sql`sum(${countField(w.db, f)}) as ${sql.ref(f)}`))}`;
  return sql`count(*) as "Events"`;
}

export interface Cell {
  readonly group: string;
  readonly day: number;
  /** Whom the cell counts for MinGroupSize (unitColumns), in its largest epoch. */
  readonly size: number;
  /** The kind's sums: Events and the counts. */
  readonly sums: Readonly<Record<string, number>>;
}

/** Every (group, UTC day) cell of the window with its size and sums, in one pass grouped by group, day and epoch. */
export async function cellAggregates(w: ReportWindow): Promise<Cell[]> {
  const rows = (await sql<Record<string, unknown> & UnitRow>`select ${groupExpr(w.groupBy)} as g, ${dayNumber} as d, epoch, ${unitColumns(w.table)}, ${sums(w)}
    from ${sql.table(w.table)} where ${where(w)} group by 1, 2, 3`.execute(w.db.kysely)).rows;
  const byCell = new Map<string, { group: string; day: number; epochs: UnitRow[]; sums: Record<string, number> }>();
  for (const { g, d, epoch, units, anonymous, ...values } of rows) {
    const key = `${n(d)}\n${String(g)}`;
    const c = byCell.get(key) ?? { group: String(g), day: n(d), epochs: [], sums: {} };
    c.epochs.push({ epoch, units, anonymous });
    for (const [k, v] of Object.entries(values)) c.sums[k] = (c.sums[k] ?? 0) + n(v);
    byCell.set(key, c);
  }
  return [...byCell.values()].map((c) => ({ group: c.group, day: c.day, size: sizeOf(c.epochs), sums: c.sums }));
}

/** The size (as cellAggregates counts it) of the union of some cells: a person in two of them counts once. */
export async function unionSize(w: ReportWindow, cells: CellSet): Promise<number> {
  if (cells.size === 0) return 0;
  const rows = (await sql<UnitRow>`select epoch, ${unitColumns(w.table)} from ${sql.table(w.table)} where ${where(w, cells)} group by epoch`.execute(w.db.kysely)).rows;
  return sizeOf(rows);
}

export interface GroupCounts {
  /** Distinct users and devices (usage: devices) of each group over the cells, in the group's largest epoch. */
  readonly counts: Map<string, Record<string, number>>;
  /** How many key epochs the cells' events span. */
  readonly epochs: number;
}

/** Distinct users and devices per group over some cells, a lower bound where the cells span key epochs. */
export async function groupCounts(w: ReportWindow, cells: CellSet): Promise<GroupCounts> {
  if (cells.size === 0) return { counts: new Map(), epochs: 0 };
  const columns = w.table === 'telemetry_usage' ? sql`count(distinct device_hash) as "Devices"` : sql`count(distinct user_hash) as "Users", count(distinct device_hash) as "Devices"`;
  const rows = (await sql<Record<string, unknown>>`select ${groupExpr(w.groupBy)} as g, epoch, ${columns} from ${sql.table(w.table)} where ${where(w, cells)} group by 1, 2`.execute(w.db.kysely)).rows;
  const counts = new Map<string, Record<string, number>>();
  for (const { g, epoch: _epoch, ...values } of rows) {
    const c = counts.get(String(g)) ?? {};
    for (const [k, v] of Object.entries(values)) c[k] = Math.max(c[k] ?? 0, n(v));
    counts.set(String(g), c);
  }
  return { counts, epochs: new Set(rows.map((r) => String(r.epoch))).size };
}

/** A feature or error code of a group: its uses (reports) and how many distinct units sent it (as a cell's size). */
export interface NamedCount { readonly group: string; readonly name: string; readonly uses: number; readonly senders: number }

async function named(w: ReportWindow, query: RawBuilder<Record<string, unknown>>): Promise<NamedCount[]> {
  const rows = (await query.execute(w.db.kysely)).rows;
  const out = new Map<string, { group: string; name: string; uses: number; epochs: UnitRow[] }>();
  for (const r of rows) {
    const key = `${String(r.g)}\n${String(r.name)}`;
    const x = out.get(key) ?? { group: String(r.g), name: String(r.name), uses: 0, epochs: [] };
    x.uses += n(r.uses);
    x.epochs.push({ epoch: r.epoch, units: r.units, anonymous: r.anonymous });
    out.set(key, x);
  }
  return [...out.values()].map((x) => ({ group: x.group, name: x.name, uses: x.uses, senders: sizeOf(x.epochs) }));
}

/** Uses per feature per group (FeaturesUsed of the usage events) over some cells. */
export async function featureUses(w: ReportWindow, cells: CellSet): Promise<NamedCount[]> {
  if (cells.size === 0) return [];
  const each = w.db.dialect === 'postgres' ? sql`jsonb_each_text(cast(telemetry_usage.features as jsonb))` : sql`json_each(telemetry_usage.features)`;
  const value = w.db.dialect === 'postgres' ? sql`cast(f.value as bigint)` : sql`f.value`;
  return named(w, sql<Record<string, unknown>>`select ${groupExpr(w.groupBy)} as g, f.key as name, epoch, sum(${value}) as uses, ${unitColumns(w.table)}
    from telemetry_usage, ${each} as f where ${where(w, cells)} group by 1, 2, 3`);
}

/** Reports per error code per group over some cells. */
export async function errorCodes(w: ReportWindow, cells: CellSet): Promise<NamedCount[]> {
  if (cells.size === 0) return [];
  return named(w, sql<Record<string, unknown>>`select ${groupExpr(w.groupBy)} as g, error_code as name, epoch, count(*) as uses, ${unitColumns(w.table)}
    from telemetry_errors where ${where(w, cells)} group by 1, 2, 3`);
}
