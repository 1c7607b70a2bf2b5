// The telemetry switches (issue 11 §3): per tenant (Get-/Set-MmsTelemetryConfiguration), per web-service pool
// (Get-/Set-CsWebServiceConfiguration -MeetingUxEnableTelemetry) and per user (Set-MmsUserTelemetry), and the
// tenant's ingestion key. Every change is one transaction with its audit row, as the directory's Set- cmdlets are.
import { createHash, randomBytes } from 'node:crypto';
import type { Tenant } from '../domain/directory.js';
import { usageError } from '../domain/errors.js';
import { insertAudit } from '../store/audit-repo.js';
import type { Db } from '../store/index.js';
import {
  deleteErrorReportsOf, getOptIn, getOptInForUpdate, getTelemetrySettings, listWebServices, saveOptIn, saveTelemetrySettings, saveWebService, settingsByIngestionKey,
  type TelemetrySettingsRow,
} from '../store/telemetry-repo.js';
import { writeTransaction } from '../store/transaction.js';
import { sha256Hex, type Pseudonyms } from './keys.js';
import { normalizeUserId } from './privacy.js';

/** Who changes, and when. */
export interface TelemetryChangeContext {
  readonly db: Db;
  readonly actor: string;
  readonly now: () => number;
}

export interface TelemetryConfiguration {
  readonly disableAutomaticSendTracing: boolean;
  readonly keepErrorReportIdentifiers: boolean;
  readonly retentionDays: number;
  readonly errorReportRetentionDays: number;
  readonly minGroupSize: number;
  readonly keyEpoch: number;
  readonly ingestionKeyCreatedAt: number | null;
}

/** Usage on, error reports when users opt in, identifiers protected, 90/30 days kept, groups under 5 hidden. */
export const DEFAULT_TELEMETRY_CONFIGURATION: TelemetryConfiguration = Object.freeze({
  disableAutomaticSendTracing: false,
  keepErrorReportIdentifiers: false,
  retentionDays: 90,
  errorReportRetentionDays: 30,
  minGroupSize: 5,
  keyEpoch: 1,
  ingestionKeyCreatedAt: null,
});

export const RETENTION_DAYS_RANGE = { min: 1, max: 3650 } as const;
/** 1 would let a report show a single person; 2 is the least that does not. */
export const MIN_GROUP_SIZE_RANGE = { min: 2, max: 1000 } as const;

export function configurationFromRow(r: TelemetrySettingsRow | undefined): TelemetryConfiguration {
  if (!r) return DEFAULT_TELEMETRY_CONFIGURATION;
  return {
    disableAutomaticSendTracing: r.disable_automatic_send_tracing === 1,
    keepErrorReportIdentifiers: r.keep_error_report_identifiers === 1,
    retentionDays: r.retention_days,
    errorReportRetentionDays: r.error_report_retention_days,
    minGroupSize: r.min_group_size,
    keyEpoch: r.key_epoch,
    ingestionKeyCreatedAt: r.ingestion_key_created_at,
  };
}

function rowFrom(tenantId: string, c: TelemetryConfiguration, keySha256: string | null, at: number): TelemetrySettingsRow {
  return {
    tenant_id: tenantId,
    disable_automatic_send_tracing: c.disableAutomaticSendTracing ? 1 : 0,
    keep_error_report_identifiers: c.keepErrorReportIdentifiers ? 1 : 0,
    retention_days: c.retentionDays,
    error_report_retention_days: c.errorReportRetentionDays,
    min_group_size: c.minGroupSize,
    key_epoch: c.keyEpoch,
    ingestion_key_sha256: keySha256,
    ingestion_key_created_at: c.ingestionKeyCreatedAt,
    modified_at: at,
  };
}

export async function getTelemetryConfiguration(db: Db, tenantId: string): Promise<TelemetryConfiguration> {
  return configurationFromRow(await getTelemetrySettings(db.kysely, tenantId));
}

export interface TelemetryConfigurationChange {
  readonly disableAutomaticSendTracing?: boolean;
  readonly keepErrorReportIdentifiers?: boolean;
  readonly retentionDays?: number;
  readonly errorReportRetentionDays?: number;
  readonly minGroupSize?: number;
  /** Start a new pseudonym epoch: the same user is a new pseudonym from now on; stored rows keep theirs. */
  readonly rotateKey?: boolean;
}

function inRange(name: string, value: number | undefined, r: { min: number; max: number }): void {
  if (value !== undefined && (!Number.isInteger(value) || value < r.min || value > r.max)) throw usageError(`${name} ${value} is out of range: give a whole number from ${r.min} to ${r.max}`);
}

/**
 * Set-MmsTelemetryConfiguration. Values already in place change nothing and write no audit row; `noChange` then
 * names them (as Set-CsTenantMigrationConfiguration does).
 */
export async function setTelemetryConfiguration(ctx: TelemetryChangeContext, tenant: Tenant, change: TelemetryConfigurationChange): Promise<{ configuration: TelemetryConfiguration; noChange?: string }> {
  inRange('RetentionDays', change.retentionDays, RETENTION_DAYS_RANGE);
  inRange('ErrorReportRetentionDays', change.errorReportRetentionDays, RETENTION_DAYS_RANGE);
  inRange('MinGroupSize', change.minGroupSize, MIN_GROUP_SIZE_RANGE);
  return writeTransaction(ctx.db, async (tx) => {
    const row = await getTelemetrySettings(tx, tenant.id);
    const before = configurationFromRow(row);
    const after: TelemetryConfiguration = {
      ...before,
      ...(change.disableAutomaticSendTracing !== undefined ? { disableAutomaticSendTracing: change.disableAutomaticSendTracing } : {}),
      ...(change.keepErrorReportIdentifiers !== undefined ? { keepErrorReportIdentifiers: change.keepErrorReportIdentifiers } : {}),
      ...(change.retentionDays !== undefined ? { retentionDays: change.retentionDays } : {}),
      ...(change.errorReportRetentionDays !== undefined ? { errorReportRetentionDays: change.errorReportRetentionDays } : {}),
      ...(change.minGroupSize !== undefined ? { minGroupSize: change.minGroupSize } : {}),
      ...(change.rotateKey ? { keyEpoch: before.keyEpoch + 1 } : {}),
    };
    const names: Record<string, keyof TelemetryConfiguration> = {
      DisableAutomaticSendTracing: 'disableAutomaticSendTracing', KeepErrorReportIdentifiers: 'keepErrorReportIdentifiers', RetentionDays: 'retentionDays',
      ErrorReportRetentionDays: 'errorReportRetentionDays', MinGroupSize: 'minGroupSize', KeyEpoch: 'keyEpoch',
    };
    const changes: Record<string, [unknown, unknown]> = {};
    const same: string[] = [];
    for (const [name, key] of Object.entries(names)) {
      if (before[key] !== after[key]) changes[name] = [before[key], after[key]];
      else if (name !== 'KeyEpoch' && change[key as keyof TelemetryConfigurationChange] !== undefined) same.push(`${name} is already ${String(after[key])}`);
    }
    if (!Object.keys(changes).length) return { configuration: before, noChange: same.join('; ') || 'no setting given' };
    const now = ctx.now();
    await saveTelemetrySettings(tx, rowFrom(tenant.id, after, row?.ingestion_key_sha256 ?? null, now));
    await insertAudit(tx, {
      tenantId: tenant.id, at: now, actor: ctx.actor, cmdlet: 'Set-MmsTelemetryConfiguration', userId: null, target: tenant.name,
      changes, decision: 'None', reason: change.rotateKey ? 'telemetry settings changed; a new pseudonym epoch began' : 'telemetry settings changed', correlationId: null,
    });
    return { configuration: after };
  });
}

/** Ingestion keys look like this, so that one pasted in the wrong place is recognized. */
const KEY_PREFIX = 'mmst_';
export const ingestionKeySha256 = (key: string): string => createHash('sha256').update(key.trim(), 'utf8').digest('hex');

/**
 * New-MmsTelemetryIngestionKey: a new random key for the tenant's clients (256 bits; only its SHA-256 is stored, as
 * for API tokens). The key before it stops working at once.
 */
export async function newIngestionKey(ctx: TelemetryChangeContext, tenant: Tenant): Promise<{ key: string; replaced: boolean }> {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return writeTransaction(ctx.db, async (tx) => {
    const row = await getTelemetrySettings(tx, tenant.id);
    const now = ctx.now();
    const c = { ...configurationFromRow(row), ingestionKeyCreatedAt: now };
    await saveTelemetrySettings(tx, rowFrom(tenant.id, c, ingestionKeySha256(key), now));
    await insertAudit(tx, {
      tenantId: tenant.id, at: now, actor: ctx.actor, cmdlet: 'New-MmsTelemetryIngestionKey', userId: null, target: tenant.name,
      changes: { IngestionKey: [row?.ingestion_key_sha256 ? 'set' : null, 'new'] }, decision: 'None', reason: 'telemetry ingestion key created', correlationId: null,
    });
    return { key, replaced: !!row?.ingestion_key_sha256 };
  });
}

/** The tenant a client's ingestion key belongs to, with its settings; undefined for an unknown key. */
export async function tenantOfIngestionKey(db: Db, key: string): Promise<TelemetrySettingsRow | undefined> {
  if (!key.startsWith(KEY_PREFIX)) return undefined;
  return settingsByIngestionKey(db, ingestionKeySha256(key));
}

/** `Global`, or a pool as `Service:WebServer:<fqdn>` (a bare FQDN is taken as that pool); stored lower case. */
export function webServiceIdentity(identity: string): string {
  const v = identity.trim();
  if (/^global$/i.test(v)) return 'global';
  const m = /^(?:service:webserver:)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)$/i.exec(v);
  if (!m) throw usageError(`Identity '${identity}' is not a web service: give Global, or a pool as Service:WebServer:pool01.contoso.com (or its FQDN)`);
  return `service:webserver:${m[1]!.toLowerCase()}`;
}

/** The way Get-CsWebServiceConfiguration spells an identity. */
export function showIdentity(identity: string): string {
  return identity === 'global' ? 'Global' : `Service:WebServer:${identity.slice('service:webserver:'.length)}`;
}

export interface WebServiceConfiguration {
  readonly identity: string;
  readonly meetingUxEnableTelemetry: boolean;
}

/** Global first (false when never set), then each pool set, by name. */
export async function getWebServiceConfigurations(db: Db, tenant: Tenant, identity?: string): Promise<WebServiceConfiguration[]> {
  const rows = await listWebServices(db.kysely, tenant.id);
  const all = [{ identity: 'global', meetingUxEnableTelemetry: false }, ...rows.filter((r) => r.identity !== 'global').map((r) => ({ identity: r.identity, meetingUxEnableTelemetry: r.meeting_ux_enable_telemetry === 1 }))];
  const global = rows.find((r) => r.identity === 'global');
  if (global) all[0] = { identity: 'global', meetingUxEnableTelemetry: global.meeting_ux_enable_telemetry === 1 };
  const wanted = identity === undefined ? undefined : webServiceIdentity(identity);
  const pick = wanted === undefined ? all : all.filter((c) => c.identity === wanted);
  // A pool never set follows Global: shown so, rather than "not found".
  if (wanted !== undefined && !pick.length) return [{ identity: wanted, meetingUxEnableTelemetry: all[0]!.meetingUxEnableTelemetry }];
  return pick.map((c) => ({ ...c, identity: showIdentity(c.identity) }));
}

/** Set-CsWebServiceConfiguration -MeetingUxEnableTelemetry for Global or one pool. */
export async function setWebServiceConfiguration(ctx: TelemetryChangeContext, tenant: Tenant, identity: string, enable: boolean): Promise<{ configuration: WebServiceConfiguration; noChange?: string }> {
  const id = webServiceIdentity(identity);
  return writeTransaction(ctx.db, async (tx) => {
    const rows = await listWebServices(tx, tenant.id);
    const own = rows.find((r) => r.identity === id);
    const before = own ? own.meeting_ux_enable_telemetry === 1 : undefined;
    const configuration = { identity: showIdentity(id), meetingUxEnableTelemetry: enable };
    if (before === enable) return { configuration, noChange: `MeetingUxEnableTelemetry of ${showIdentity(id)} is already ${enable}` };
    const now = ctx.now();
    await saveWebService(tx, { tenant_id: tenant.id, identity: id, meeting_ux_enable_telemetry: enable ? 1 : 0, modified_at: now });
    await insertAudit(tx, {
      tenantId: tenant.id, at: now, actor: ctx.actor, cmdlet: 'Set-CsWebServiceConfiguration', userId: null, target: showIdentity(id),
      changes: { MeetingUxEnableTelemetry: [before ?? null, enable] }, decision: 'None', reason: 'web service telemetry setting changed', correlationId: null,
    });
    return { configuration };
  });
}

/**
 * How the audit log and the answers name a user whose telemetry choice changed: a short keyed hash, never the id
 * (the opt-in records must not become a list of who reports errors). An admin who has the id finds it again with
 * Get-MmsUserTelemetry.
 */
const userLabel = (optInKey: string) => `user ${optInKey.slice(0, 16)}`;

/** Get-MmsUserTelemetry: the user's error-reporting choice (false when never set). */
export async function getUserTelemetry(db: Db, pseudonyms: Pseudonyms, tenant: Tenant, identity: string): Promise<{ user: string; errorReportingOptIn: boolean }> {
  const key = pseudonyms.optInKey(tenant.id, sha256Hex(checkUserId(identity)));
  return { user: userLabel(key), errorReportingOptIn: (await getOptIn(db.kysely, tenant.id, key)) ?? false };
}

function checkUserId(identity: string): string {
  const id = normalizeUserId(identity);
  if (!id) throw usageError('Identity is empty: give the user id the client reports (alice@contoso.com, sip:alice@contoso.com)');
  return id;
}

/**
 * Set-MmsUserTelemetry -ErrorReportingOptIn. Opting out deletes the user's stored error reports of every epoch
 * (the user's pseudonym in each epoch's error key) in the same transaction.
 */
export async function setUserTelemetry(ctx: TelemetryChangeContext, pseudonyms: Pseudonyms, tenant: Tenant, identity: string, optIn: boolean): Promise<{ user: string; errorReportingOptIn: boolean; deletedErrorReports: number; noChange?: string }> {
  const userSha = sha256Hex(checkUserId(identity));
  const key = pseudonyms.optInKey(tenant.id, userSha);
  return writeTransaction(ctx.db, async (tx) => {
    const before = await getOptInForUpdate(tx, ctx.db.dialect, tenant.id, key);
    const epoch = configurationFromRow(await getTelemetrySettings(tx, tenant.id)).keyEpoch;
    let deleted = 0;
    if (!optIn) {
      const pseudonymsByEpoch = Array.from({ length: epoch }, (_, i) => ({ epoch: i + 1, userHash: pseudonyms.of(tenant.id, 'error-user', i + 1, userSha) }));
      deleted = await deleteErrorReportsOf(tx, tenant.id, pseudonymsByEpoch);
    }
    // Nothing to record unless reports were deleted: an opt-out repeated still deletes what arrived since, audited.
    if (before === optIn && deleted === 0) return { user: userLabel(key), errorReportingOptIn: optIn, deletedErrorReports: deleted, noChange: `ErrorReportingOptIn is already ${optIn}` };
    const now = ctx.now();
    await saveOptIn(tx, tenant.id, key, optIn, now);
    await insertAudit(tx, {
      tenantId: tenant.id, at: now, actor: ctx.actor, cmdlet: 'Set-MmsUserTelemetry', userId: null, target: userLabel(key),
      changes: { ErrorReportingOptIn: [before ?? false, optIn], ...(deleted ? { ErrorReportsDeleted: [null, deleted] } : {}) },
      decision: 'None', reason: optIn ? 'user opted in to error reporting' : 'user opted out of error reporting; their error reports were deleted', correlationId: null,
    });
    return { user: userLabel(key), errorReportingOptIn: optIn, deletedErrorReports: deleted };
  });
}
