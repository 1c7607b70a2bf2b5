import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * `telemetry_key_check`: one row, the fingerprint of the telemetry key (MMS_TELEMETRY_KEY, or SQLite's key file) the
 * stored pseudonyms and opt-ins were made with — an HMAC of a constant under the key, never the key. A service started
 * with another key would otherwise file every user under a new pseudonym and silently lose every opt-in; with it,
 * ingestion refuses with the fix (src/telemetry/keys.ts).
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema.createTable('telemetry_key_check')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('created_at', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
    .execute();
}
