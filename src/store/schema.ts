import type { Generated } from 'kysely';
import type { TelemetryCensusTable, TelemetryErrorTable, TelemetryOptInTable, TelemetrySettingsTable, TelemetryUsageTable, TelemetryWebServiceTable } from './schema-telemetry.js';

export type * from './schema-telemetry.js';

/*
 * One schema for SQLite and PostgreSQL: booleans are 0/1 integers, times are epoch milliseconds
 * (bigint on PostgreSQL, read back as numbers), JSON is text. Only `store/` knows this.
 */

export interface TenantTable {
  id: string;
  name: string;
  domains: string; // JSON string[]; the first is the primary domain
  meeting_url: string;
  on_premises_meeting_url: string;
  meeting_migration_enabled: number;
  automatically_migrate_user_meetings: number;
  automatically_replace_acp_provider: number;
  preserve_edited_blocks: number;
  pin_length: number;
  max_meeting_attendees: number;
  time_zone: Generated<string>; // IANA; floating times of the tenant's meetings are read in it (default UTC)
  teams_meeting_url?: string; // migration 018: base of Teams join links (issue 12); optional for inserts written before it
  automatically_send_emails_to_users: Generated<number>; // migration 020: email users their own dial-in details (default 1)
  created_at: number;
  teams_upgrade_policy: Generated<string>; // the tenant's Global TeamsUpgradePolicy (migration 019; default Islands)
  meeting_migration_source_meeting_types: Generated<string>; // All | SfB | Teams (default All)
  meeting_migration_target_meeting_types: Generated<string>; // Current | Teams (default Teams)
}

export interface BridgeTable {
  id: string;
  tenant_id: string;
  name: string;
  is_default: number;
  on_premises: number;
  default_toll_number: string | null;
  default_toll_free_number: string | null;
  created_at: number;
}

export interface BridgeNumberTable {
  tenant_id: string;
  bridge_id: string;
  number: string; // E.164
  kind: 'Toll' | 'TollFree';
  city: string;
  languages: string; // JSON string[]
  position: number;
}

export interface UserTable {
  id: string; // the UserId GUID
  tenant_id: string;
  upn: string; // lower case
  sip_address: string; // lower case, with sip: prefix
  display_name: string;
  preferred_language: string;
  hosted_on: 'OnPremises' | 'Online';
  mailbox_location: 'Online' | 'OnPremises';
  licenses: string; // JSON string[]
  ac_provider: 'None' | 'Microsoft' | 'ThirdParty';
  acp: string | null; // JSON ThirdPartyAcp
  ac_enabled: number;
  bridge_id: string | null; // online bridge provisioned; null = the tenant's default online bridge
  toll_number: string | null; // null = the bridge's default
  toll_free_number: string | null;
  conference_id: string;
  leader_pin_hash: string;
  time_zone: string | null; // IANA; null = the tenant's
  created_at: number;
  modified_at: number;
  teams_upgrade_policy?: string | null; // the user's own TeamsUpgradePolicy (migration 019); null = the tenant's
}

export interface AuditTable {
  id: Generated<number>;
  tenant_id: string;
  at: number;
  actor: string;
  cmdlet: string;
  user_id: string | null;
  target: string;
  changes: string; // JSON { field: [before, after] }
  decision: 'Migrate' | 'NoMigration' | 'None';
  reason: string;
  correlation_id: string | null;
}

export interface MigrationRequestTable {
  id: string; // CorrelationId
  tenant_id: string;
  user_id: string;
  state: 'Pending' | 'InProgress' | 'Failed' | 'Succeeded';
  migration_type: string;
  trigger_reasons: string; // JSON string[]
  create_date: number;
  modified_date: number;
  not_before: number;
  retry_count: number;
  total_meeting: number;
  succeeded_meeting: number;
  failed_meeting: number;
  skipped_meeting: number;
  invites_update: number;
  last_message: string;
  lease_owner: string | null;
  lease_expires_at: number | null;
  // The process holding the lease (migration 005, store/lease-holder.ts); null when none or claimed before 005.
  // Optional so that inserts written before 005 (a new request has no holder) need not name them.
  lease_host?: string | null;
  lease_pid?: number | null;
  lease_pid_start?: string | null;
}

export interface CalendarObjectTable {
  id: Generated<number>;
  tenant_id: string;
  mailbox_user_id: string;
  uid: string;
  ics: string; // exactly as received or last written
  organizer: string | null; // lower-case address without mailto:
  first_start: number | null;
  last_end: number | null; // null = the series never ends
  attendee_count: number;
  attendees: Generated<string>; // JSON lower-case addresses, organizer excluded
  online_meeting_id: string | null;
  summary: string;
  position: number; // import / creation order, for export
  floating_zone: string | null; // IANA zone floating times were derived with; null = the object has none
  unknown_zones: Generated<string>; // JSON TZIDs nobody could resolve (their times were read as UTC)
  zones_derived: Generated<number>; // 1 = first_start/last_end follow the time zone rules of migration 003
  meeting_type?: 'SfB' | 'Teams' | null; // migration 018 (issue 12): null = no online meeting
  version: number;
  created_at: number;
  modified_at: number;
}

export interface MigrationMeetingTable {
  id: Generated<number>;
  correlation_id: string;
  tenant_id: string;
  user_id: string;
  uid: string;
  subject: string;
  start_time: number | null;
  action: 'Updated' | 'Skipped' | 'Failed' | 'UpToDate' | 'Restored';
  reason: string;
  attendees_notified: number;
  at: number;
  version_written: number | null; // the organizer copy's version this migration wrote (undo checks it)
  previous_block: string | null; // JSON PreviousBlock: what undo restores
  // Migration 018 (issue 12): the meeting's type before and after this migration (differ when it was converted);
  // null for rows written before 018 and for objects that are no online meeting. Optional for inserts.
  meeting_type?: 'SfB' | 'Teams' | null;
  new_meeting_type?: 'SfB' | 'Teams' | null;
}

export interface OutboxTable {
  id: Generated<number>;
  tenant_id: string;
  correlation_id: string;
  organizer_id: string;
  uid: string;
  recipient: string;
  internal: number; // 1: the attendee's copy was updated in place; 0: an iMIP message waits for SMTP
  method: 'REQUEST';
  state: 'Applied' | 'Queued' | 'Sending' | 'Sent' | 'Failed';
  message_id: number | null;
  created_at: number;
  sent_at: number | null;
  last_error: string | null;
  // Migration 007 (SMTP delivery): claims so far, the server's last reply, the earliest next try, the claim.
  attempts: Generated<number>;
  last_reply: string | null;
  not_before: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  // The sender process holding the lease (migration 009, store/lease-holder.ts); null when none or claimed before
  // 009. Optional so that inserts of new rows (which have no holder) need not name them.
  lease_host?: string | null;
  lease_pid?: number | null;
  lease_pid_start?: string | null;
  // Migration 020: 'Meeting' (an attendee's notification of a migrated meeting) or 'UserNotice' (an email to a user
  // about their own dial-in settings; organizer_id is that user, uid 'user-notice').
  kind: Generated<'Meeting' | 'UserNotice'>;
}

export interface OutboxMessageTable {
  id: Generated<number>;
  tenant_id: string;
  correlation_id: string;
  uid: string;
  /** Which components the message carries: '' the whole meeting, else a key of its set (one per set). */
  variant: Generated<string>;
  from_address: string;
  sender_address: string;
  subject: string;
  ics: string;
  /** Migration 020: a UserNotice's content (JSON UserNoticeContent, its PIN sealed); null for iMIP messages. */
  notice: Generated<string | null>;
}

export interface MigrationAttemptTable {
  id: Generated<number>;
  correlation_id: string;
  tenant_id: string; // migration 022: the request's tenant (Citus distribution column, docs/SCALING.md)
  worker_id: string;
  started_at: number;
  ended_at: number | null;
  outcome: string | null;
}

/** An internal attendee's copy that no longer parsed and was replaced (migration 006): the damaged text is kept. */
export interface AttendeeCopyDamageTable {
  id: Generated<number>;
  correlation_id: string; // the migration (or undo) that replaced the copy
  tenant_id: string;
  user_id: string; // the organizer
  uid: string;
  subject: string;
  start_time: number | null;
  attendee_id: string;
  attendee: string; // the attendee's UPN, for the history
  reason: string; // AttendeeCopyDamaged: … (what was carried over, what could not be read)
  damaged_ics: string; // the copy's text as it was: what undo puts back
  version_written: number | null; // the copy's version the replacement wrote (undo puts the text back only over it)
  at: number;
}

/** A calendar server users' mailboxes live on (migration 008). */
export interface MailboxHostTable {
  id: string;
  tenant_id: string;
  name: string;
  name_key: string; // lower-case name: unique per tenant
  type: 'CalDav';
  url: string;
  user_name: string | null; // the service account, if any
  password_sealed: string | null; // AES-256-GCM, src/secrets/: never the password itself
  max_concurrency: number;
  principal_url_template: string | null; // e.g. https://dav.contoso.com/principals/{upn}/
  created_at: number;
  modified_at: number;
}

/** Which host a user's mailbox is on, and how to reach it (migration 008). */
export interface UserMailboxTable {
  user_id: string;
  tenant_id: string;
  host_id: string;
  calendar_url: string | null; // given: no discovery
  user_name: string | null; // the user's own credentials, instead of the host's service account
  password_sealed: string | null;
  modified_at: number;
}

/** A remote write begun and not yet recorded (migration 010; see store/intent-repo.ts). */
export interface WriteIntentTable {
  correlation_id: string;
  uid: string;
  tenant_id: string;
  user_id: string;
  ref: string;
  payload: string;
  marker: string;
  created_at: number;
}

/** A REST API token (migration 012): a hash of its secret, never the secret. */
export interface ApiTokenTable {
  id: string;
  name: string;
  name_key: string;
  scope: string; // the tenant's id, '*' for a ServiceAdmin token: names are unique within a scope
  role: string;
  tenant_id: string | null; // null: a ServiceAdmin token, for every tenant
  secret_sha256: string;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

/** A local admin account for the web admin center (migration 013): a password hash, never the password. */
export interface AdminAccountTable {
  id: string;
  user_name: string;
  user_name_key: string;
  role: string;
  tenant_id: string | null; // null: a ServiceAdmin, for every tenant
  password_hash: string | null; // null until set from the one-time sign-in link
  setup_code_sha256: string | null;
  setup_expires_at: number | null;
  created_by: string;
  created_at: number;
  last_sign_in_at: number | null;
}

/** A browser session (migration 013): the SHA-256 of the cookie's secret, never the cookie. */
export interface WebSessionTable {
  id_sha256: string;
  account_id: string;
  created_at: number;
  last_seen_at: number;
  ended_at: number | null;
}

/** A running `mms serve` worker's heartbeat (migration 011; see store/worker-repo.ts). */
export interface WorkerHeartbeatTable {
  id: string;
  host: string;
  pid: number;
  started_at: number;
  last_seen_at: number;
  beat_ms: number;
}

export interface Database {
  telemetry_settings: TelemetrySettingsTable;
  telemetry_web_services: TelemetryWebServiceTable;
  telemetry_opt_ins: TelemetryOptInTable;
  telemetry_census: TelemetryCensusTable;
  telemetry_usage: TelemetryUsageTable;
  telemetry_errors: TelemetryErrorTable;
  api_tokens: ApiTokenTable;
  admin_accounts: AdminAccountTable;
  web_sessions: WebSessionTable;
  worker_heartbeats: WorkerHeartbeatTable;
  write_intents: WriteIntentTable;
  tenants: TenantTable;
  bridges: BridgeTable;
  bridge_numbers: BridgeNumberTable;
  users: UserTable;
  audit_log: AuditTable;
  migration_requests: MigrationRequestTable;
  calendar_objects: CalendarObjectTable;
  migration_meetings: MigrationMeetingTable;
  outbox: OutboxTable;
  outbox_messages: OutboxMessageTable;
  migration_attempts: MigrationAttemptTable;
  attendee_copy_damage: AttendeeCopyDamageTable;
  mailbox_hosts: MailboxHostTable;
  user_mailboxes: UserMailboxTable;
}
