// The telemetry tables (migration 014): what src/telemetry/ reads and writes. Identities never reach this file in
// clear: callers hand over HMACs, truncated addresses and the tenant's id.
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Db } from './db.js';
import type { Database, TelemetryCensusTable, TelemetryErrorTable, TelemetrySettingsTable, TelemetryUsageTable, TelemetryWebServiceTable } from './schema.js';
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

/** Accepted events of one batch, written in one transaction. */
export async function insertTelemetry(db: Db, rows: { census: CensusInsert[]; usage: UsageInsert[]; errors: ErrorInsert[] }): Promise<void> {
  if (!rows.census.length && !rows.usage.length && !rows.errors.length) return;
  await writeTransaction(db, async (tx) => {
    if (rows.census.length) await tx.insertInto('telemetry_census').values(rows.census).execute();
    if (rows.usage.length) await tx.insertInto('telemetry_usage').values(rows.usage).execute();
    if (rows.errors.length) await tx.insertInto('telemetry_errors').values(rows.errors).execute();
  });
}

/** Deletes a user's error reports: one pseudonym per epoch (the user's HMAC in that epoch's key). How many. */
export async function deleteErrorReportsOf(k: K, tenantId: string, pseudonyms: ReadonlyArray<{ epoch: number; userHash: string }>): Promise<number> {
  let n = 0;
  for (const p of pseudonyms) {
    const r = await k.deleteFrom('telemetry_errors').where('tenant_id', '=', tenantId).where('epoch', '=', p.epoch).where('user_hash', '=', p.userHash).executeTakeFirst();
    n += Number(r.numDeletedRows ?? 0);
  }
  return n;
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
