// The reads behind Get-MmsTelemetryReport (issue 11 §5): aggregates per group of a tenant's telemetry in a time
// window, by when the events happened (event_time, indexed by migration 017). Only counts and sums leave this file,
// never a user's or device's pseudonym. A group is one text key (`GroupKey`) so that the same expression selects a
// set of groups again (the hidden ones, whose union report.ts must measure).
import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db.js';

export type ReportTable = 'telemetry_census' | 'telemetry_usage' | 'telemetry_errors';
export type GroupKey = 'All' | 'AppVersion' | 'OsName' | 'Language' | 'Day';

export const DAY_MS = 86_400_000;

/** The usage counts ingest.ts stores in the `counts` JSON, summed per group. */
export const USAGE_COUNT_FIELDS = ['CallsMade', 'ImSent', 'ImReceived', 'MeetingJoinAttempts', 'MeetingJoinSuccesses', 'CallMinutes', 'MeetingMinutes', 'StabilityIssues'] as const;

export interface ReportWindow {
  readonly db: Db;
  readonly table: ReportTable;
  readonly tenantId: string;
  readonly groupBy: GroupKey;
  readonly start: number;
  readonly end: number;
}

/** The group expression, as text on both databases ('SkypeDesktop 16.0', 'iPhoneiOS', 'en-us', a day number). */
function groupExpr(g: GroupKey): RawBuilder<string> {
  switch (g) {
    case 'All': return sql<string>`'All'`;
    case 'AppVersion': return sql<string>`app_name || ' ' || app_version`;
    case 'OsName': return sql<string>`os_name`;
    case 'Language': return sql<string>`user_language`;
    case 'Day': return sql<string>`cast(event_time / ${sql.lit(DAY_MS)} as text)`;
  }
}

/** Some groups: those named, or all but those named (whichever list is shorter, for the statement's parameters). */
export type GroupSet = { readonly in: readonly string[] } | { readonly notIn: readonly string[] };

function where(w: ReportWindow, set?: GroupSet): RawBuilder<unknown> {
  const list = (keys: readonly string[]) => sql.join(keys.map((k) => sql`${k}`));
  const groups = !set ? sql``
    : 'in' in set ? sql` and ${groupExpr(w.groupBy)} in (${list(set.in)})`
      : set.notIn.length ? sql` and ${groupExpr(w.groupBy)} not in (${list(set.notIn)})` : sql``;
  return sql`tenant_id = ${w.tenantId} and event_time >= ${w.start} and event_time < ${w.end}${groups}`;
}

const n = (v: unknown): number => Number(v ?? 0);

/**
 * Whom a group counts for MinGroupSize, as `units` (and `anonymous`, the larger wins): census its users; usage its
 * devices (usage carries no user identifier, so a device is the finest unit it has); error reports their users or,
 * for reports without one (the Meetings app and the join launcher send none), their devices — whichever is more.
 * Counted per pseudonym epoch: a user is a new pseudonym after -RotateKey, so a group's size is its largest epoch's
 * count, never a sum that would count one person twice.
 */
function unitColumns(table: ReportTable): RawBuilder<unknown> {
  if (table === 'telemetry_census') return sql`count(distinct user_hash) as units, 0 as anonymous`;
  if (table === 'telemetry_usage') return sql`count(distinct device_hash) as units, 0 as anonymous`;
  return sql`count(distinct user_hash) as units, count(distinct case when user_hash is null then device_hash end) as anonymous`;
}

type UnitRow = { units: unknown; anonymous: unknown };
const units = (r: UnitRow): number => Math.max(n(r.units), n(r.anonymous));

/** The size (as groupAggregates counts it) of the union of the groups `set`: a person in two of them counts once. */
export async function unionSize(w: ReportWindow, set: GroupSet): Promise<number> {
  if ('in' in set && !set.in.length) return 0;
  const rows = (await sql<UnitRow>`select epoch, ${unitColumns(w.table)} from ${sql.table(w.table)} where ${where(w, set)} group by epoch`.execute(w.db.kysely)).rows;
  return Math.max(0, ...rows.map(units));
}

/** A count field of the `counts` JSON as a number (absent: no row's worth). */
function countField(db: Db, field: string): RawBuilder<number> {
  return db.dialect === 'postgres' ? sql<number>`cast(cast(counts as jsonb) ->> ${field} as bigint)` : sql<number>`json_extract(counts, ${`$.${field}`})`;
}

/** Each kind's figures, named as the report's columns; all of them add up across epochs (see groupAggregates). */
function figures(w: ReportWindow): RawBuilder<unknown> {
  if (w.table === 'telemetry_census') {
    return sql`count(distinct user_hash) as "Users", count(distinct device_hash) as "Devices", count(*) as "Events", sum(sign_in_attempts) as "SignInAttempts", sum(sign_in_failures) as "SignInFailures"`;
  }
  if (w.table === 'telemetry_usage') {
    return sql`count(distinct device_hash) as "Devices", count(*) as "Events", ${sql.join(USAGE_COUNT_FIELDS.map((f) => sql`sum(${countField(w.db, f)}) as ${sql.ref(f)}`))}`;
  }
  return sql`count(distinct user_hash) as "Users", count(distinct device_hash) as "Devices", count(*) as "Events"`;
}

export interface GroupAggregate {
  /** Whom the group counts for MinGroupSize (unitColumns), in its largest epoch. */
  readonly size: number;
  /** The kind's figures: Users, Devices, Events and the sums. */
  readonly figures: Readonly<Record<string, number>>;
}

/**
 * Every group's size and figures in one pass, grouped by group and epoch. Pseudonyms of different epochs are
 * different (their keys differ), so a distinct count of the whole group is the sum of its epochs' — as sums are.
 */
export async function groupAggregates(w: ReportWindow): Promise<Map<string, GroupAggregate>> {
  const rows = (await sql<Record<string, unknown> & UnitRow>`select ${groupExpr(w.groupBy)} as g, epoch, ${unitColumns(w.table)}, ${figures(w)}
    from ${sql.table(w.table)} where ${where(w)} group by 1, 2`.execute(w.db.kysely)).rows;
  const out = new Map<string, { size: number; figures: Record<string, number> }>();
  for (const { g, epoch: _epoch, units: u, anonymous, ...values } of rows) {
    const key = String(g);
    const a = out.get(key) ?? { size: 0, figures: {} };
    a.size = Math.max(a.size, units({ units: u, anonymous }));
    for (const [k, v] of Object.entries(values)) a.figures[k] = (a.figures[k] ?? 0) + n(v);
    out.set(key, a);
  }
  return out;
}

/** Uses per feature per group (FeaturesUsed of the usage events). */
export async function featureUses(w: ReportWindow): Promise<Array<{ group: string; name: string; uses: number }>> {
  const rows = w.db.dialect === 'postgres'
    ? (await sql<Record<string, unknown>>`select ${groupExpr(w.groupBy)} as g, f.key as name, sum(cast(f.value as bigint)) as uses
        from telemetry_usage, jsonb_each_text(cast(telemetry_usage.features as jsonb)) as f where ${where(w)} group by 1, 2`.execute(w.db.kysely)).rows
    : (await sql<Record<string, unknown>>`select ${groupExpr(w.groupBy)} as g, f.key as name, sum(f.value) as uses
        from telemetry_usage, json_each(telemetry_usage.features) as f where ${where(w)} group by 1, 2`.execute(w.db.kysely)).rows;
  return rows.map((r) => ({ group: String(r.g), name: String(r.name), uses: n(r.uses) }));
}

/** Reports per error code per group. */
export async function errorCodes(w: ReportWindow): Promise<Array<{ group: string; name: string; uses: number }>> {
  const rows = (await sql<Record<string, unknown>>`select ${groupExpr(w.groupBy)} as g, error_code as name, count(*) as uses
    from telemetry_errors where ${where(w)} group by 1, 2`.execute(w.db.kysely)).rows;
  return rows.map((r) => ({ group: String(r.g), name: String(r.name), uses: n(r.uses) }));
}
