import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Get-MmsTelemetryReport (issue 11 §5) selects a tenant's events by when they happened (event_time), not when MMS
 * received them: a client that was offline sends a day's events later, and they belong to that day. Migration
 * 014's indexes are on received_at (for retention), so without these a report reads every row the tenant keeps.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  for (const table of ['telemetry_census', 'telemetry_usage', 'telemetry_errors']) {
    await db.schema.createIndex(`${table}_event_time`).on(table).columns(['tenant_id', 'event_time']).execute();
  }
}
