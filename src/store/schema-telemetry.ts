// The client telemetry tables (issue 11; migrations 014, 016, 017), beside the service's own in schema.ts: same
// conventions (0/1 booleans, epoch milliseconds, JSON as text).
import type { Generated } from 'kysely';

/** A tenant's telemetry switches, retention, pseudonym epoch and ingestion-key hash (migration 014). */
export interface TelemetrySettingsTable {
  tenant_id: string;
  disable_automatic_send_tracing: number;
  keep_error_report_identifiers: number;
  retention_days: number;
  error_report_retention_days: number;
  min_group_size: number;
  key_epoch: number;
  ingestion_key_sha256: string | null;
  ingestion_key_created_at: number | null;
  modified_at: number;
}

/** MeetingUxEnableTelemetry per web-service Identity (migration 014). */
export interface TelemetryWebServiceTable {
  tenant_id: string;
  identity: string;
  meeting_ux_enable_telemetry: number;
  modified_at: number;
}

/** A user's error-reporting choice, keyed by a keyed hash of the user (migration 014). */
export interface TelemetryOptInTable {
  tenant_id: string;
  user_key: string;
  error_reporting_opt_in: number;
  modified_at: number;
}

/** A census event as stored (migration 014): user and device as HMACs of the row's epoch. */
export interface TelemetryCensusTable {
  id: Generated<number>;
  tenant_id: string;
  epoch: number;
  received_at: number;
  event_time: number;
  app_name: string;
  app_version: string;
  device_model: string;
  os_name: string;
  os_version: string;
  user_language: string;
  user_hash: string;
  device_hash: string;
  sign_in_attempts: number;
  sign_in_failures: number;
}

/** A usage event as stored (migration 014): counts, no user. */
export interface TelemetryUsageTable {
  id: Generated<number>;
  tenant_id: string;
  epoch: number;
  received_at: number;
  event_time: number;
  app_name: string;
  app_version: string;
  pool: string | null;
  device_hash: string;
  counts: string;
  features: string;
  federation_partner: string | null;
}

/** An error report as stored (migration 014). */
export interface TelemetryErrorTable {
  id: Generated<number>;
  tenant_id: string;
  epoch: number;
  received_at: number;
  event_time: number;
  app_name: string;
  app_version: string;
  pool: string | null;
  device_hash: string;
  user_hash: string | null;
  sip_uri: string | null;
  ip_address: string | null;
  identifiers_kept: number;
  error_code: string;
  details: string;
}
