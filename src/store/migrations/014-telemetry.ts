import type { CreateTableBuilder, Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Client telemetry (issue 11). Settings and switches per tenant, per web-service pool and per user; the three kinds
 * of data in tables of their own so that census and error rows share no column they could be joined on.
 * - `telemetry_settings`: the tenant's switches, retention, pseudonym epoch and the SHA-256 of its ingestion key
 *   (the key itself is printed once and kept nowhere).
 * - `telemetry_web_services`: `MeetingUxEnableTelemetry` per Identity (`Global`, `Service:WebServer:<pool fqdn>`).
 * - `telemetry_opt_ins`: a user's error-reporting choice, keyed by a keyed hash of the user (never the user).
 * - `telemetry_census` / `_usage` / `_errors`: events as stored: users and devices as HMACs with the epoch they
 *   were made in, IP addresses truncated, SIP URIs hashed unless the tenant keeps them.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  const serial = <T extends string>(t: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'id'> =>
    dialect === 'postgres'
      ? t.addColumn('id', 'bigserial', (c) => c.primaryKey())
      : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await db.schema.createTable('telemetry_settings')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id'))
    .addColumn('disable_automatic_send_tracing', 'integer', (c) => c.notNull())
    .addColumn('keep_error_report_identifiers', 'integer', (c) => c.notNull())
    .addColumn('retention_days', 'integer', (c) => c.notNull())
    .addColumn('error_report_retention_days', 'integer', (c) => c.notNull())
    .addColumn('min_group_size', 'integer', (c) => c.notNull())
    .addColumn('key_epoch', 'integer', (c) => c.notNull())
    .addColumn('ingestion_key_sha256', 'text')
    .addColumn('ingestion_key_created_at', big)
    .addColumn('modified_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('telemetry_settings_key').unique().on('telemetry_settings').columns(['ingestion_key_sha256']).execute();

  await db.schema.createTable('telemetry_web_services')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('identity', 'text', (c) => c.notNull()) // lower case
    .addColumn('meeting_ux_enable_telemetry', 'integer', (c) => c.notNull())
    .addColumn('modified_at', big, (c) => c.notNull())
    .addPrimaryKeyConstraint('telemetry_web_services_pk', ['tenant_id', 'identity'])
    .execute();

  await db.schema.createTable('telemetry_opt_ins')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('user_key', 'text', (c) => c.notNull())
    .addColumn('error_reporting_opt_in', 'integer', (c) => c.notNull())
    .addColumn('modified_at', big, (c) => c.notNull())
    .addPrimaryKeyConstraint('telemetry_opt_ins_pk', ['tenant_id', 'user_key'])
    .execute();

  await db.schema.createTable('telemetry_census')
    .$call(serial)
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('received_at', big, (c) => c.notNull())
    .addColumn('event_time', big, (c) => c.notNull())
    .addColumn('app_name', 'text', (c) => c.notNull())
    .addColumn('app_version', 'text', (c) => c.notNull())
    .addColumn('device_model', 'text', (c) => c.notNull())
    .addColumn('os_name', 'text', (c) => c.notNull())
    .addColumn('os_version', 'text', (c) => c.notNull())
    .addColumn('user_language', 'text', (c) => c.notNull())
    .addColumn('user_hash', 'text', (c) => c.notNull())
    .addColumn('device_hash', 'text', (c) => c.notNull())
    .addColumn('sign_in_attempts', 'integer', (c) => c.notNull())
    .addColumn('sign_in_failures', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('telemetry_census_time').on('telemetry_census').columns(['tenant_id', 'received_at']).execute();

  await db.schema.createTable('telemetry_usage')
    .$call(serial)
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('received_at', big, (c) => c.notNull())
    .addColumn('event_time', big, (c) => c.notNull())
    .addColumn('app_name', 'text', (c) => c.notNull())
    .addColumn('app_version', 'text', (c) => c.notNull())
    .addColumn('pool', 'text')
    .addColumn('device_hash', 'text', (c) => c.notNull())
    .addColumn('counts', 'text', (c) => c.notNull()) // JSON { ImSent: 12, … }
    .addColumn('features', 'text', (c) => c.notNull()) // JSON { FeatureName: uses }
    .addColumn('federation_partner', 'text')
    .execute();
  await db.schema.createIndex('telemetry_usage_time').on('telemetry_usage').columns(['tenant_id', 'received_at']).execute();

  await db.schema.createTable('telemetry_errors')
    .$call(serial)
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('received_at', big, (c) => c.notNull())
    .addColumn('event_time', big, (c) => c.notNull())
    .addColumn('app_name', 'text', (c) => c.notNull())
    .addColumn('app_version', 'text', (c) => c.notNull())
    .addColumn('pool', 'text')
    .addColumn('device_hash', 'text', (c) => c.notNull())
    .addColumn('user_hash', 'text')
    .addColumn('sip_uri', 'text') // an HMAC, or the URI itself when the tenant keeps identifiers
    .addColumn('ip_address', 'text') // truncated (/24, /48), or whole when the tenant keeps identifiers
    .addColumn('identifiers_kept', 'integer', (c) => c.notNull())
    .addColumn('error_code', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull()) // JSON: message, exception, log, conversation state, …
    .execute();
  await db.schema.createIndex('telemetry_errors_time').on('telemetry_errors').columns(['tenant_id', 'received_at']).execute();
  await db.schema.createIndex('telemetry_errors_user').on('telemetry_errors').columns(['tenant_id', 'epoch', 'user_hash']).execute();
}
