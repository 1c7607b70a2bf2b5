// Ingestion (issue 11 §4): a batch of one kind, each event accepted or refused on its own — the switch that refuses
// it named, or the schema problem — and the accepted ones written in one transaction. What is written has been
// through the privacy rules: users and devices as HMACs of the tenant's current epoch, IP addresses truncated, SIP
// URIs keyed-hashed unless the tenant keeps identifiers, identifiers repeated in free text replaced.
import type { Db } from '../store/index.js';
import { getOptIn, insertTelemetry, type CensusInsert, type ErrorInsert, type TelemetrySettingsRow, type UsageInsert } from '../store/telemetry-repo.js';
import { meetingUxEnabled } from './client-config.js';
import { isMeetingUxApp, schemaProblem, userIdentifierIn, type CensusEvent, type ErrorEvent, type TelemetryKind, type UsageEvent } from './events.js';
import { sha256Hex, type Pseudonyms } from './keys.js';
import { normalizeSipUri, normalizeUserId, scrub, truncateIp } from './privacy.js';
import type { DeviceRateLimiter } from './rate-limit.js';

/** Why an event was refused: a switch's name, or what is wrong with it. */
export type RefusalReason = 'DisableAutomaticSendTracing' | 'ErrorReportingOptIn' | 'MeetingUxEnableTelemetry' | 'Schema' | 'UserIdentifierNotAllowed' | 'RateLimited';

export interface EventResult {
  readonly Index: number;
  readonly Status: 'Accepted' | 'Refused';
  readonly Reason?: RefusalReason;
  readonly Message?: string;
}

export interface IngestOutcome {
  readonly Accepted: number;
  readonly Refused: number;
  readonly Results: EventResult[];
}

export interface IngestContext {
  readonly db: Db;
  readonly pseudonyms: Pseudonyms;
  readonly limiter: DeviceRateLimiter;
  readonly now: () => number;
}

const MESSAGES: Record<Exclude<RefusalReason, 'Schema'>, string> = {
  DisableAutomaticSendTracing: 'the tenant sets DisableAutomaticSendTracing: usage data and error reports are not collected (Set-MmsTelemetryConfiguration -DisableAutomaticSendTracing false turns them on)',
  ErrorReportingOptIn: 'the user has not opted in to error reporting (Set-MmsUserTelemetry -ErrorReportingOptIn true); GET /telemetry/v1/config tells a client before it sends',
  MeetingUxEnableTelemetry: 'the pool\'s MeetingUxEnableTelemetry is false (the default): Skype Meetings App and join launcher data is not collected (Set-CsWebServiceConfiguration -Identity <pool> -MeetingUxEnableTelemetry true)',
  UserIdentifierNotAllowed: 'usage events carry no user identifier: remove the field (census carries the client-hashed UserId; error reports, for opted-in users, the UserId)',
  RateLimited: 'this device sent more events than its per-minute allowance: send them again later',
};

const refused = (Index: number, Reason: RefusalReason, Message?: string): EventResult => ({ Index, Status: 'Refused', Reason, Message: Message ?? MESSAGES[Reason as Exclude<RefusalReason, 'Schema'>] });

/** What decides a batch: the tenant's settings and, looked up once per batch, pools and users. */
class Decisions {
  private readonly pools = new Map<string, boolean>();
  private readonly optIns = new Map<string, boolean>();
  constructor(private readonly ctx: IngestContext, private readonly tenant: TelemetrySettingsRow) {}

  async meetingUx(pool: string): Promise<boolean> {
    const p = pool.toLowerCase();
    let v = this.pools.get(p);
    if (v === undefined) {
      v = await meetingUxEnabled(this.ctx.db, this.tenant.tenant_id, p);
      this.pools.set(p, v);
    }
    return v;
  }

  async optedIn(userSha: string): Promise<boolean> {
    let v = this.optIns.get(userSha);
    if (v === undefined) {
      v = (await getOptIn(this.ctx.db.kysely, this.tenant.tenant_id, this.ctx.pseudonyms.optInKey(this.tenant.tenant_id, userSha))) === true;
      this.optIns.set(userSha, v);
    }
    return v;
  }
}

/** Checks and stores one batch of `kind` events for the tenant whose settings are `tenant`. */
export async function ingestBatch(ctx: IngestContext, tenant: TelemetrySettingsRow, kind: TelemetryKind, events: readonly unknown[]): Promise<IngestOutcome> {
  ctx.pseudonyms.masterKey(); // no key (PostgreSQL without MMS_TELEMETRY_KEY): the whole batch fails with the fix
  const decide = new Decisions(ctx, tenant);
  const received = ctx.now();
  const rows = { census: [] as CensusInsert[], usage: [] as UsageInsert[], errors: [] as ErrorInsert[] };
  const results: EventResult[] = [];
  const disabled = tenant.disable_automatic_send_tracing === 1;
  for (const [i, event] of events.entries()) {
    if (kind === 'usage' && event && typeof event === 'object' && !Array.isArray(event)) {
      const field = userIdentifierIn(event as Record<string, unknown>);
      if (field) {
        results.push(refused(i, 'UserIdentifierNotAllowed', `${field}: ${MESSAGES.UserIdentifierNotAllowed}`));
        continue;
      }
    }
    const problem = schemaProblem(kind, event);
    if (problem) {
      results.push(refused(i, 'Schema', problem));
      continue;
    }
    const e = event as CensusEvent | UsageEvent | ErrorEvent;
    const time = e.Time === undefined ? received : Date.parse(e.Time);
    if (!Number.isFinite(time)) {
      results.push(refused(i, 'Schema', 'Time is not a date: write it like 2026-11-30T12:00:00Z'));
      continue;
    }
    if (kind !== 'census') {
      const ev = e as UsageEvent | ErrorEvent;
      const ux = isMeetingUxApp(ev.AppName);
      if (disabled) {
        results.push(refused(i, 'DisableAutomaticSendTracing'));
        continue;
      }
      if (ux && !ev.Pool) {
        results.push(refused(i, 'Schema', `Pool is required for ${ev.AppName} events: the pool's MeetingUxEnableTelemetry decides whether they are collected`));
        continue;
      }
      if (ux && !(await decide.meetingUx(ev.Pool!))) {
        results.push(refused(i, 'MeetingUxEnableTelemetry'));
        continue;
      }
      // The Meetings app and the join launcher have no user opt-in (the reference's document): their error reports are
      // collected on the pool's switch alone, so they may not name a user — or any client could label a report as
      // theirs and store a user's identifiers without that user's consent.
      if (kind === 'error' && ux && ((ev as ErrorEvent).UserId !== undefined || (ev as ErrorEvent).SipUri !== undefined)) {
        results.push(refused(i, 'ErrorReportingOptIn', `${ev.AppName} error reports are collected without a user's opt-in, so they may not carry UserId or SipUri: leave both out`));
        continue;
      }
      if (kind === 'error' && !ux) {
        const userId = (ev as ErrorEvent).UserId;
        if (userId === undefined) {
          results.push(refused(i, 'Schema', 'UserId is required: error reports are collected only for users who opted in'));
          continue;
        }
        if (!(await decide.optedIn(sha256Hex(normalizeUserId(userId))))) {
          results.push(refused(i, 'ErrorReportingOptIn'));
          continue;
        }
      }
      if (kind === 'error') {
        const ip = (ev as ErrorEvent).IpAddress;
        if (ip !== undefined && truncateIp(ip) === undefined) {
          results.push(refused(i, 'Schema', 'IpAddress is not an IPv4 or IPv6 address'));
          continue;
        }
      }
    }
    // Last, so that refused events do not use up the device's allowance.
    if (!ctx.limiter.take(tenant.tenant_id, e.DeviceId)) {
      results.push(refused(i, 'RateLimited'));
      continue;
    }
    const base = { tenant_id: tenant.tenant_id, epoch: tenant.key_epoch, received_at: received, event_time: time, app_name: e.AppName, app_version: e.AppVersion };
    if (kind === 'census') rows.census.push(censusRow(ctx.pseudonyms, base, e as CensusEvent));
    else if (kind === 'usage') rows.usage.push(usageRow(ctx.pseudonyms, base, e as UsageEvent));
    else rows.errors.push(errorRow(ctx.pseudonyms, base, e as ErrorEvent, tenant.keep_error_report_identifiers === 1));
    results.push({ Index: i, Status: 'Accepted' });
  }
  await insertTelemetry(ctx.db, rows);
  const accepted = results.filter((r) => r.Status === 'Accepted').length;
  return { Accepted: accepted, Refused: results.length - accepted, Results: results };
}

type Base = Pick<CensusInsert, 'tenant_id' | 'epoch' | 'received_at' | 'event_time' | 'app_name' | 'app_version'>;

function censusRow(p: Pseudonyms, b: Base, e: CensusEvent): CensusInsert {
  return {
    ...b, device_model: e.DeviceModel, os_name: e.OsName, os_version: e.OsVersion, user_language: e.UserLanguage.toLowerCase(),
    // The second hash the reference promises: the client's SHA-256, keyed again.
    user_hash: p.of(b.tenant_id, 'census-user', b.epoch, e.UserId.toLowerCase()),
    device_hash: p.of(b.tenant_id, 'census-device', b.epoch, e.DeviceId.toLowerCase()),
    sign_in_attempts: e.SignInAttempts, sign_in_failures: e.SignInFailures,
  };
}

const COUNT_FIELDS = ['CallsMade', 'ImSent', 'ImReceived', 'MeetingJoinAttempts', 'MeetingJoinSuccesses', 'CallMinutes', 'MeetingMinutes', 'StabilityIssues'] as const;

function usageRow(p: Pseudonyms, b: Base, e: UsageEvent): UsageInsert {
  const counts: Record<string, number> = {};
  for (const f of COUNT_FIELDS) if (e[f] !== undefined) counts[f] = e[f];
  return {
    ...b, pool: e.Pool?.toLowerCase() ?? null, device_hash: p.of(b.tenant_id, 'usage-device', b.epoch, e.DeviceId.toLowerCase()),
    counts: JSON.stringify(counts), features: JSON.stringify(e.FeaturesUsed ?? {}), federation_partner: e.FederationPartner?.toLowerCase() ?? null,
  };
}

function errorRow(p: Pseudonyms, b: Base, e: ErrorEvent, keep: boolean): ErrorInsert {
  const userId = e.UserId === undefined ? undefined : normalizeUserId(e.UserId);
  const sip = e.SipUri === undefined ? undefined : normalizeSipUri(e.SipUri);
  const ip = e.IpAddress?.trim();
  const sipStored = sip === undefined ? null : keep ? sip : p.of(b.tenant_id, 'error-sip', b.epoch, sip);
  const ipStored = ip === undefined ? null : keep ? ip : truncateIp(ip)!;
  // Identifiers the client repeated in its free text are replaced by what is stored for them.
  const replace: Array<[string, string]> = [];
  if (e.UserId !== undefined) replace.push([e.UserId.trim(), '[UserId]'], [userId!, '[UserId]']);
  if (sip !== undefined && !keep) replace.push([sip, '[SipUri]'], [sip.slice(4), '[SipUri]']);
  if (ip !== undefined && !keep) replace.push([ip, ipStored!]);
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return scrub(v, replace);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [scrub(k, replace), clean(x)]));
    return v;
  };
  const details = {
    Message: e.Message, Exception: e.Exception, Log: e.Log, MessageDirection: e.MessageDirection, ConversationState: e.ConversationState,
    ConversationThreadId: e.ConversationThreadId, DeviceConfiguration: e.DeviceConfiguration, NetworkQuality: e.NetworkQuality,
  };
  return {
    ...b, pool: e.Pool?.toLowerCase() ?? null, device_hash: p.of(b.tenant_id, 'error-device', b.epoch, e.DeviceId.toLowerCase()),
    user_hash: userId === undefined ? null : p.of(b.tenant_id, 'error-user', b.epoch, sha256Hex(userId)),
    sip_uri: sipStored, ip_address: ipStored, identifiers_kept: keep ? 1 : 0, error_code: scrub(e.ErrorCode, replace), details: JSON.stringify(clean(details)),
  };
}
