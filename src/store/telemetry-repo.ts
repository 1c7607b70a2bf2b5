// The telemetry tables (migration 014): what src/telemetry/ reads and writes. Identities never reach this file in
// clear: callers hand over HMACs, truncated addresses and the tenant's id.
import { CompiledQuery, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Db } from './db.js';
import type { Database, TelemetryCensusTable, TelemetryErrorTable, TelemetrySettingsTable, TelemetryUsageTable, TelemetryWebServiceTable } from './schema.js';
import type { PgColumn } from './bulk-insert.js';
import { writeTransaction } from './transaction.js';

type K = Kysely<Database>;
export type TelemetrySettingsRow = Selectable<TelemetrySettingsTable>;
export type TelemetryWebServiceRow = Selectable<TelemetryWebServiceTable>;
export type CensusInsert = Insertable<TelemetryCensusTable>;
export type UsageInsert = Insertable<TelemetryUsageTable>;
export type ErrorInsert = Insertable<TelemetryErrorTable>;

export async function getTelemetrySettings(k: K, tenantId: string): Promise<TelemetrySettingsRow | undefined> {
  return k.selectFrom('telemetry_settings').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
}

/** Writes a tenant's whole settings row (inserted the first time). */
export async function saveTelemetrySettings(k: K, row: TelemetrySettingsRow): Promise<void> {
  const { tenant_id: _id, ...rest } = row;
  await k.insertInto('telemetry_settings').values(row).onConflict((oc) => oc.column('tenant_id').doUpdateSet(rest)).execute();
}

/** The tenant whose ingestion key has this SHA-256, with its settings (undefined: no such key). */
export async function settingsByIngestionKey(db: Db, keySha256: string): Promise<TelemetrySettingsRow | undefined> {
  return db.kysely.selectFrom('telemetry_settings').selectAll().where('ingestion_key_sha256', '=', keySha256).executeTakeFirst();
}

export async function listWebServices(k: K, tenantId: string): Promise<TelemetryWebServiceRow[]> {
  return k.selectFrom('telemetry_web_services').selectAll().where('tenant_id', '=', tenantId).orderBy('identity').execute();
}

export async function saveWebService(k: K, row: TelemetryWebServiceRow): Promise<void> {
  await k.insertInto('telemetry_web_services').values(row)
    .onConflict((oc) => oc.columns(['tenant_id', 'identity']).doUpdateSet({ meeting_ux_enable_telemetry: row.meeting_ux_enable_telemetry, modified_at: row.modified_at }))
    .execute();
}

/** The rows that decide for `identities`, most specific first (the caller picks the first present). */
export async function webServicesNamed(k: K, tenantId: string, identities: readonly string[]): Promise<TelemetryWebServiceRow[]> {
  if (!identities.length) return [];
  return k.selectFrom('telemetry_web_services').selectAll().where('tenant_id', '=', tenantId).where('identity', 'in', [...identities]).execute();
}

/** A user's error-reporting choice (undefined: never set, which means not opted in). */
export async function getOptIn(k: K, tenantId: string, userKey: string): Promise<boolean | undefined> {
  const r = await k.selectFrom('telemetry_opt_ins').select('error_reporting_opt_in').where('tenant_id', '=', tenantId).where('user_key', '=', userKey).executeTakeFirst();
  return r === undefined ? undefined : r.error_reporting_opt_in === 1;
}

export async function saveOptIn(k: K, tenantId: string, userKey: string, optIn: boolean, at: number): Promise<void> {
  await k.insertInto('telemetry_opt_ins').values({ tenant_id: tenantId, user_key: userKey, error_reporting_opt_in: optIn ? 1 : 0, modified_at: at })
    .onConflict((oc) => oc.columns(['tenant_id', 'user_key']).doUpdateSet({ error_reporting_opt_in: optIn ? 1 : 0, modified_at: at }))
    .execute();
}

/**
 * The opt-in choice as Set-MmsUserTelemetry reads it before it changes it: on PostgreSQL the row is locked (FOR
 * UPDATE), so that an ingestion holding it (optedInKeys) finishes before the opt-out deletes — and sees its rows —
 * and one that comes after waits for the opt-out and reads it. SQLite's write lock does the same for both.
 */
export async function getOptInForUpdate(k: K, dialect: Db['dialect'], tenantId: string, userKey: string): Promise<boolean | undefined> {
  const q = k.selectFrom('telemetry_opt_ins').select('error_reporting_opt_in').where('tenant_id', '=', tenantId).where('user_key', '=', userKey);
  const r = await (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  return r === undefined ? undefined : r.error_reporting_opt_in === 1;
}

/**
 * Of `userKeys`, those opted in to error reporting: one query for a batch, inside the ingestion's write transaction
 * (FOR SHARE on PostgreSQL: an opt-out in progress is waited for, and one that comes later waits for the insert).
 */
export async function optedInKeys(tx: K, dialect: Db['dialect'], tenantId: string, userKeys: readonly string[]): Promise<Set<string>> {
  const q = tx.selectFrom('telemetry_opt_ins').select('user_key').where('tenant_id', '=', tenantId).where('user_key', 'in', [...userKeys]).where('error_reporting_opt_in', '=', 1);
  const rows = await (dialect === 'postgres' ? q.forShare() : q).execute();
  return new Set(rows.map((r) => r.user_key));
}

const TABLE = { census: 'telemetry_census', usage: 'telemetry_usage', error: 'telemetry_errors' } as const;
/** The INSERT text per table, columns and row count: built once, so that a batch costs its values only. */
const insertTexts = new Map<string, string>();

function insertText(dialect: Db['dialect'], table: string, columns: readonly string[], n: number): string {
  const id = `${dialect} ${table} ${columns.join(',')} ${n}`;
  let text = insertTexts.get(id);
  if (!text) {
    let p = 0;
    const row = () => `(${columns.map(() => (dialect === 'postgres' ? `$${++p}` : '?')).join(', ')})`;
    text = `insert into ${table} (${columns.map((c) => `"${c}"`).join(', ')}) values ${Array.from({ length: n }, row).join(', ')}`;
    if (insertTexts.size > 1000) insertTexts.clear();
    insertTexts.set(id, text);
  }
  return text;
}

/**
 * The columns ingestion writes per table, in the order it hands over the values (insertTelemetryValues): the three
 * every row of a batch shares first (TELEMETRY_SHARED_COLUMNS), then the event's own.
 */
export const TELEMETRY_COLUMNS = {
  census: ['tenant_id', 'epoch', 'received_at', 'event_time', 'app_name', 'app_version', 'device_model', 'os_name', 'os_version', 'user_language', 'user_hash', 'device_hash', 'sign_in_attempts', 'sign_in_failures'],
  usage: ['tenant_id', 'epoch', 'received_at', 'event_time', 'app_name', 'app_version', 'pool', 'device_hash', 'counts', 'features', 'federation_partner'],
  error: ['tenant_id', 'epoch', 'received_at', 'event_time', 'app_name', 'app_version', 'pool', 'device_hash', 'user_hash', 'sip_uri', 'ip_address', 'identifiers_kept', 'error_code', 'details'],
} as const satisfies { census: ReadonlyArray<keyof CensusInsert>; usage: ReadonlyArray<keyof UsageInsert>; error: ReadonlyArray<keyof ErrorInsert> };
/** tenant_id, epoch, received_at: the same for every row of a batch. */
export const TELEMETRY_SHARED_COLUMNS = 3;

/**
 * Accepted events of one batch and kind: one multi-row INSERT, in the caller's transaction. `values` holds `rows`
 * rows of TELEMETRY_COLUMNS[kind] one after the other. Plain SQL with parameters rather than the query builder, whose
 * per-value parsing took 6–8 % of an ingestion's time (the bench's profile); the rows are built off the main thread
 * as flat lists (telemetry/ingest-prepare.ts), so no object per row is made here either.
 */
export async function insertTelemetryValues(tx: K, dialect: Db['dialect'], kind: keyof typeof TABLE, rows: number, values: readonly unknown[]): Promise<void> {
  if (!rows) return;
  if (dialect === 'postgres') {
    await tx.executeQuery(CompiledQuery.raw(unnestText(kind), columnArrays(TELEMETRY_COLUMNS[kind].length, rows, values)));
    return;
  }
  await tx.executeQuery(CompiledQuery.raw(insertText(dialect, TABLE[kind], TELEMETRY_COLUMNS[kind], rows), values as unknown[]));
}

/** PostgreSQL types of the telemetry columns that are not text (migration 014). */
const PG_TYPES: Readonly<Record<string, PgColumn[1]>> = { epoch: 'integer', received_at: 'bigint', event_time: 'bigint', sign_in_attempts: 'integer', sign_in_failures: 'integer', identifiers_kept: 'integer' };
const pgType = (column: string): PgColumn[1] => PG_TYPES[column] ?? 'text';

/**
 * PostgreSQL: the shared columns as scalars, every other column as one array, unnested — a statement of a few
 * parameters whatever the batch size. A VALUES list of 100 rows has 1,100–1,400 parameters, and PostgreSQL parses,
 * binds and plans all of them for every batch: that made ingestion 0.37–0.52 of the floor (which inserts the same rows
 * with unnest) in the bench.
 */
function unnestText(kind: keyof typeof TABLE): string {
  const id = `postgres unnest ${kind}`;
  let text = insertTexts.get(id);
  if (!text) {
    const columns = TELEMETRY_COLUMNS[kind];
    const shared = columns.slice(0, TELEMETRY_SHARED_COLUMNS).map((c, i) => `$${i + 1}::${pgType(c)}`);
    const own = columns.slice(TELEMETRY_SHARED_COLUMNS).map((c, i) => `$${TELEMETRY_SHARED_COLUMNS + i + 1}::${pgType(c)}[]`);
    text = `insert into ${TABLE[kind]} (${columns.map((c) => `"${c}"`).join(', ')}) select ${shared.join(', ')}, u.* from unnest(${own.join(', ')}) as u`;
    insertTexts.set(id, text);
  }
  return text;
}

/** The parameters of unnestText: the first row's shared values, then one array per other column. */
function columnArrays(width: number, rows: number, values: readonly unknown[]): unknown[] {
  const params: unknown[] = values.slice(0, TELEMETRY_SHARED_COLUMNS);
  for (let c = TELEMETRY_SHARED_COLUMNS; c < width; c++) {
    const column: unknown[] = new Array(rows);
    for (let r = 0; r < rows; r++) column[r] = values[r * width + c];
    params.push(column);
  }
  return params;
}

/**
 * Deletes a user's error reports: one pseudonym per epoch (the user's HMAC in that epoch's key). How many. On SQLite
 * the rows' bytes are overwritten (secure_delete, store/db.ts); on PostgreSQL a deleted row's bytes stay in the table's
 * pages (and the WAL segments) until VACUUM — autovacuum, or VACUUM telemetry_errors — frees the space and new rows
 * write over it; VACUUM FULL telemetry_errors rewrites the table at once.
 */
export async function deleteErrorReportsOf(k: K, tenantId: string, pseudonyms: ReadonlyArray<{ epoch: number; userHash: string }>): Promise<number> {
  let n = 0;
  for (const p of pseudonyms) {
    const r = await k.deleteFrom('telemetry_errors').where('tenant_id', '=', tenantId).where('epoch', '=', p.epoch).where('user_hash', '=', p.userHash).executeTakeFirst();
    n += Number(r.numDeletedRows ?? 0);
  }
  return n;
}

type KeyCheck = { telemetry_key_check: { id: number; fingerprint: string; created_at: number } };

/** The stored telemetry key fingerprint; `fingerprint` is stored first when there is none yet (the first start). */
export async function claimKeyFingerprint(db: Db, fingerprint: string, at: number): Promise<string> {
  const k = db.kysely.withTables<KeyCheck>();
  await k.insertInto('telemetry_key_check').values({ id: 1, fingerprint, created_at: at }).onConflict((oc) => oc.column('id').doNothing()).execute();
  return (await k.selectFrom('telemetry_key_check').select('fingerprint').where('id', '=', 1).executeTakeFirstOrThrow()).fingerprint;
}

/** Rows deleted per write transaction: a long backlog goes in short transactions, never one that holds SQLite's lock. */
const PRUNE_CHUNK = 500;

type EventTable = 'telemetry_census' | 'telemetry_usage' | 'telemetry_errors';

async function pruneTable(db: Db, table: EventTable, tenantId: string, before: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const n = await writeTransaction(db, async (tx) => {
      const ids = (await tx.selectFrom(table).select('id').where('tenant_id', '=', tenantId).where('received_at', '<', before).limit(PRUNE_CHUNK).execute()).map((r) => r.id);
      if (!ids.length) return 0;
      await tx.deleteFrom(table).where('id', 'in', ids).execute();
      return ids.length;
    });
    deleted += n;
    if (n < PRUNE_CHUNK) return deleted;
  }
}

export interface TelemetryPruned {
  readonly census: number;
  readonly usage: number;
  readonly errors: number;
}

/**
 * Deletes telemetry older than each tenant's retention: census and usage after `retention_days`, error reports
 * after `error_report_retention_days`, counted from when MMS received them (a client's clock is not trusted).
 * Only tenants with settings can hold telemetry: ingesting needs their key, which creates the row.
 */
export async function pruneTelemetry(db: Db, now: number): Promise<TelemetryPruned> {
  const day = 86_400_000;
  const tenants = await db.kysely.selectFrom('telemetry_settings').select(['tenant_id', 'retention_days', 'error_report_retention_days']).execute();
  let census = 0;
  let usage = 0;
  let errors = 0;
  for (const t of tenants) {
    census += await pruneTable(db, 'telemetry_census', t.tenant_id, now - t.retention_days * day);
    usage += await pruneTable(db, 'telemetry_usage', t.tenant_id, now - t.retention_days * day);
    errors += await pruneTable(db, 'telemetry_errors', t.tenant_id, now - t.error_report_retention_days * day);
  }
  return { census, usage, errors };
}

/** The usage event's counts, kept as one JSON object per event (`counts`): what ingestion writes and reports sum. */
export const USAGE_COUNT_FIELDS = ['CallsMade', 'ImSent', 'ImReceived', 'MeetingJoinAttempts', 'MeetingJoinSuccesses', 'CallMinutes', 'MeetingMinutes', 'StabilityIssues'] as const;
