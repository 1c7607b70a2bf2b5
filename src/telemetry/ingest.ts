// Ingestion (issue 11 §4): a batch of one kind, each event accepted or refused on its own — the switch that refuses
// it named, or the schema problem — and the accepted ones written in one transaction. What is written has been
// through the privacy rules: users and devices as HMACs of the tenant's current epoch, IP addresses truncated, SIP
// URIs keyed-hashed unless the tenant keeps identifiers, and every address in free text replaced (privacy.ts).
import { isIP } from 'node:net';
import type { Db } from '../store/index.js';
import { insertTelemetryRows, optedInKeys, USAGE_COUNT_FIELDS, type CensusInsert, type ErrorInsert, type TelemetrySettingsRow, type UsageInsert } from '../store/telemetry-repo.js';
import { writeTransaction, type Tx } from '../store/transaction.js';
import { meetingUxEnabled } from './client-config.js';
import { isMeetingUxApp, schemaProblem, userIdentifierIn, type CensusEvent, type ErrorEvent, type TelemetryKind, type UsageEvent } from './events.js';
import { sha256Hex, type Pseudonyms } from './keys.js';
import { addressBucket, normalizeSipUri, normalizeUserId, scrub, scrubIdentifiers, truncateIp } from './privacy.js';
import type { TelemetryLimiters } from './rate-limit.js';

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
  readonly limiters: TelemetryLimiters;
  readonly now: () => number;
}

const MESSAGES: Record<Exclude<RefusalReason, 'Schema'>, string> = {
  DisableAutomaticSendTracing: 'the tenant sets DisableAutomaticSendTracing: usage data and error reports are not collected (Set-MmsTelemetryConfiguration -DisableAutomaticSendTracing false turns them on)',
  ErrorReportingOptIn: 'the user has not opted in to error reporting (Set-MmsUserTelemetry -ErrorReportingOptIn true); POST /telemetry/v1/config tells a client before it sends',
  MeetingUxEnableTelemetry: 'the pool\'s MeetingUxEnableTelemetry is false (the default): Skype Meetings App and join launcher data is not collected (Set-CsWebServiceConfiguration -Identity <pool> -MeetingUxEnableTelemetry true)',
  UserIdentifierNotAllowed: 'usage events carry no user identifier: remove the field (census carries the client-hashed UserId; error reports, for opted-in users, the UserId)',
  RateLimited: 'this device sent more events than its per-minute allowance: send them again later',
};

/** The other two allowances (rate-limit.ts): a DeviceId is the client's to choose, its address and key are not. */
const MESSAGES_LIMIT = {
  ip: 'this client address sent more events than its per-minute allowance: send them again later',
  key: 'this ingestion key sent more events than its per-minute allowance: send them again later',
} as const;

const refused = (Index: number, Reason: RefusalReason, Message?: string): EventResult => ({ Index, Status: 'Refused', Reason, Message: Message ?? MESSAGES[Reason as Exclude<RefusalReason, 'Schema'>] });

type AnyEvent = CensusEvent | UsageEvent | ErrorEvent;

/** An event past the checks that need no database: what the transaction still decides about it. */
interface Candidate {
  readonly index: number;
  readonly event: AnyEvent;
  readonly time: number;
  /** Error reports that need the user's opt-in: the key it is kept under. */
  readonly optInKey?: string;
  /** Error reports whose IpAddress is not an address: refused after the opt-in (a user not opted in hears that first). */
  readonly badIp?: boolean;
  /** Error reports with a UserId: the SHA-256 of the normalized id, for the opt-in key and the stored pseudonym. */
  readonly userSha256?: string;
}

/**
 * Fields a client fills freely but that are stored in clear: they may not carry an address (issue 11 §6). Their
 * length is capped by the schema (events.ts), as is FeaturesUsed's keys' charset, which admits no address at all.
 */
const CLEAR_FIELDS = ['AppName', 'DeviceModel', 'OsName', 'Pool', 'FederationPartner'] as const;
/** Versions are stored in clear too; `16.0.4.12` is a version, not an address, so only '@' and ':' are refused. */
const VERSION_FIELDS = ['AppVersion', 'OsVersion'] as const;

function identifierIn(e: Record<string, unknown>): string | undefined {
  for (const f of CLEAR_FIELDS) {
    const v = e[f];
    if (typeof v === 'string' && (/[@:]/.test(v) || isIP(v.trim()) !== 0)) return `${f} may not hold an e-mail address, SIP URI or IP address: send the app's, device's or domain's name`;
  }
  for (const f of VERSION_FIELDS) {
    const v = e[f];
    if (typeof v === 'string' && /[@:]/.test(v)) return `${f} may not hold an e-mail address or SIP URI: send a version such as 16.0.4.12`;
  }
  return undefined;
}

/**
 * The checks one event passes or fails on its own, in the order a client hears them: the schema, then the switches
 * that need no lookup. Returns the refusal, or what is left to decide.
 */
function check(kind: TelemetryKind, tenant: TelemetrySettingsRow, index: number, event: unknown, received: number, pseudonyms: Pseudonyms): EventResult | Candidate {
  if (kind === 'usage' && event && typeof event === 'object' && !Array.isArray(event)) {
    const field = userIdentifierIn(event as Record<string, unknown>);
    if (field) return refused(index, 'UserIdentifierNotAllowed', `${field}: ${MESSAGES.UserIdentifierNotAllowed}`);
  }
  const problem = schemaProblem(kind, event) ?? identifierIn(event as Record<string, unknown>);
  if (problem) return refused(index, 'Schema', problem);
  const e = event as AnyEvent;
  const time = e.Time === undefined ? received : Date.parse(e.Time);
  if (!Number.isFinite(time)) return refused(index, 'Schema', 'Time is not a date: write it like 2026-11-30T12:00:00Z');
  if (kind === 'census') return { index, event: e, time };
  const ev = e as UsageEvent | ErrorEvent;
  if (tenant.disable_automatic_send_tracing === 1) return refused(index, 'DisableAutomaticSendTracing');
  const ux = isMeetingUxApp(ev.AppName);
  if (ux && !ev.Pool) return refused(index, 'Schema', `Pool is required for ${ev.AppName} events: the pool's MeetingUxEnableTelemetry decides whether they are collected`);
  if (kind !== 'error') return { index, event: e, time };
  const er = ev as ErrorEvent;
  const badIp = er.IpAddress !== undefined && truncateIp(er.IpAddress) === undefined;
  if (ux) return { index, event: e, time, badIp };
  if (er.UserId === undefined) return refused(index, 'Schema', 'UserId is required: error reports are collected only for users who opted in');
  const userSha256 = sha256Hex(normalizeUserId(er.UserId));
  return { index, event: e, time, badIp, userSha256, optInKey: pseudonyms.optInKey(tenant.tenant_id, userSha256) };
}

/**
 * Checks and stores one batch of `kind` events for the tenant whose settings are `tenant`, sent from `clientIp`.
 * Everything that needs no database is decided first, without waiting; then one write transaction reads the
 * opt-ins the batch needs (locked on PostgreSQL, under the write lock on SQLite) and inserts what is accepted, one
 * statement per table — so an opt-out cannot land between the check and the insert and leave a report behind.
 */
export async function ingestBatch(ctx: IngestContext, tenant: TelemetrySettingsRow, kind: TelemetryKind, events: readonly unknown[], clientIp: string): Promise<IngestOutcome> {
  ctx.pseudonyms.masterKey(); // no key (PostgreSQL without MMS_TELEMETRY_KEY): the whole batch fails with the fix
  const received = ctx.now();
  const results: EventResult[] = new Array(events.length);
  let candidates: Candidate[] = [];
  const pools = new Map<string, boolean>();
  for (let i = 0; i < events.length; i++) {
    const r = check(kind, tenant, i, events[i], received, ctx.pseudonyms);
    if ('Status' in r) results[i] = r;
    else {
      candidates.push(r);
      const ev = r.event as UsageEvent;
      if (kind !== 'census' && isMeetingUxApp(ev.AppName)) pools.set(ev.Pool!.toLowerCase(), false);
    }
  }
  // The Meetings app and the join launcher: the pool's switch, looked up once per pool in the batch.
  for (const p of pools.keys()) pools.set(p, await meetingUxEnabled(ctx.db, tenant.tenant_id, p));
  if (pools.size) {
    candidates = candidates.filter((c) => {
      const ev = c.event as ErrorEvent;
      if (!isMeetingUxApp(ev.AppName)) return true;
      if (!pools.get(ev.Pool!.toLowerCase())) results[c.index] = refused(c.index, 'MeetingUxEnableTelemetry');
      // No user opt-in for these apps (the reference's document): their reports may not name a user — or any client
      // could label a report as theirs and store a user's identifiers without that user's consent.
      else if (kind === 'error' && (ev.UserId !== undefined || ev.SipUri !== undefined)) {
        results[c.index] = refused(c.index, 'ErrorReportingOptIn', `${ev.AppName} error reports are collected without a user's opt-in, so they may not carry UserId or SipUri: leave both out`);
      } else return true;
      return false;
    });
  }
  if (candidates.length) await writeTransaction(ctx.db, (tx) => decideAndInsert(ctx, tx, tenant, kind, candidates, results, received, clientIp));
  let accepted = 0;
  for (const r of results) if (r.Status === 'Accepted') accepted++;
  return { Accepted: accepted, Refused: results.length - accepted, Results: results };
}

/** Inside the write transaction: the opt-ins, the rate limits, the rows. */
async function decideAndInsert(ctx: IngestContext, tx: Tx, tenant: TelemetrySettingsRow, kind: TelemetryKind, candidates: readonly Candidate[], results: EventResult[], received: number, clientIp: string): Promise<void> {
  const keys = new Set<string>();
  for (const c of candidates) if (c.optInKey) keys.add(c.optInKey);
  const opted = keys.size ? await optedInKeys(tx, ctx.db.dialect, tenant.tenant_id, [...keys]) : new Set<string>();
  const passed: Candidate[] = [];
  for (const c of candidates) {
    if (c.optInKey && !opted.has(c.optInKey)) results[c.index] = refused(c.index, 'ErrorReportingOptIn');
    else if (c.badIp) results[c.index] = refused(c.index, 'Schema', 'IpAddress is not an IPv4 or IPv6 address');
    else passed.push(c);
  }
  // Last, so that refused events use up no allowance: the client address's and the key's for the whole batch (what is
  // not used goes back), then each device's.
  const { device, ip, key } = ctx.limiters;
  const address = addressBucket(clientIp);
  const fromIp = ip.takeUpTo(address, passed.length);
  const budget = key.takeUpTo(tenant.tenant_id, fromIp);
  let left = budget;
  const rows: Array<CensusInsert | UsageInsert | ErrorInsert> = [];
  const keep = tenant.keep_error_report_identifiers === 1;
  const addressTokens = new Map<string, string>();
  for (const c of passed) {
    const deviceId = c.event.DeviceId.toLowerCase();
    if (!device.take(`${tenant.tenant_id}\u0000${deviceId}`)) {
      results[c.index] = refused(c.index, 'RateLimited');
      continue;
    }
    if (left === 0) {
      results[c.index] = refused(c.index, 'RateLimited', budget < fromIp ? MESSAGES_LIMIT.key : MESSAGES_LIMIT.ip);
      continue;
    }
    left--;
    const r: Common = { p: ctx.pseudonyms, tenantId: tenant.tenant_id, epoch: tenant.key_epoch, received, time: c.time, deviceId, addressTokens };
    if (kind === 'census') rows.push(censusRow(r, c.event as CensusEvent));
    else if (kind === 'usage') rows.push(usageRow(r, c.event as UsageEvent));
    else rows.push(errorRow(r, c.event as ErrorEvent, keep, c.userSha256));
    results[c.index] = { Index: c.index, Status: 'Accepted' };
  }
  ip.giveBack(address, fromIp - (budget - left));
  key.giveBack(tenant.tenant_id, left);
  await insertTelemetryRows(tx, ctx.db.dialect, kind, rows);
}

/** What every row of the batch shares, and the event's DeviceId in lower case (the limiter's key and the hash's input). */
interface Common {
  readonly p: Pseudonyms;
  readonly tenantId: string;
  readonly epoch: number;
  readonly received: number;
  readonly time: number;
  readonly deviceId: string;
  /**
   * Another person's address in an error report's text → its token, for the batch: the same peer is named again and
   * again in one log and across a batch's reports, and each token is an HMAC (the bench's profile).
   */
  readonly addressTokens: Map<string, string>;
}

// Each row is one object literal with every column in the same order (no spread of a shared part): one hidden class
// per table, and less garbage per event (the bench's profile).
function censusRow(r: Common, e: CensusEvent): CensusInsert {
  return {
    tenant_id: r.tenantId, epoch: r.epoch, received_at: r.received, event_time: r.time, app_name: e.AppName, app_version: e.AppVersion,
    device_model: e.DeviceModel, os_name: e.OsName, os_version: e.OsVersion, user_language: e.UserLanguage.toLowerCase(),
    // The second hash the reference promises: the client's SHA-256, keyed again.
    user_hash: r.p.of(r.tenantId, 'census-user', r.epoch, e.UserId.toLowerCase()),
    device_hash: r.p.of(r.tenantId, 'census-device', r.epoch, r.deviceId),
    sign_in_attempts: e.SignInAttempts, sign_in_failures: e.SignInFailures,
  };
}

function usageRow(r: Common, e: UsageEvent): UsageInsert {
  const counts: Record<string, number> = {};
  for (const f of USAGE_COUNT_FIELDS) if (e[f] !== undefined) counts[f] = e[f];
  return {
    tenant_id: r.tenantId, epoch: r.epoch, received_at: r.received, event_time: r.time, app_name: e.AppName, app_version: e.AppVersion,
    pool: e.Pool?.toLowerCase() ?? null, device_hash: r.p.of(r.tenantId, 'usage-device', r.epoch, r.deviceId),
    counts: JSON.stringify(counts), features: JSON.stringify(e.FeaturesUsed ?? {}), federation_partner: e.FederationPartner?.toLowerCase() ?? null,
  };
}

function errorRow(r: Common, e: ErrorEvent, keep: boolean, userSha256: string | undefined): ErrorInsert {
  const p = r.p;
  const userId = e.UserId === undefined ? undefined : normalizeUserId(e.UserId);
  const sip = e.SipUri === undefined ? undefined : normalizeSipUri(e.SipUri);
  const ip = e.IpAddress?.trim();
  const sipStored = sip === undefined ? null : keep ? sip : p.of(r.tenantId, 'error-sip', r.epoch, sip);
  const ipStored = ip === undefined ? null : keep ? ip : truncateIp(ip)!;
  // Every address in the free text: the user's own id and URI by what is stored for them, anyone else's by a short
  // keyed hash (the same address is the same token, which is what reading a log needs) and IP addresses truncated.
  // What the tenant keeps (-KeepErrorReportIdentifiers) is the reporting user's own URI and address, no one else's.
  const own = sip?.slice(4);
  const found = (kind: 'address' | 'ip', value: string, asWritten: string): string => {
    if (kind === 'ip') return keep && value === ip ? asWritten : truncateIp(value)!;
    if (value === userId) return '[UserId]';
    if (value === own) return keep ? asWritten : '[SipUri]';
    let token = r.addressTokens.get(value);
    if (token === undefined) r.addressTokens.set(value, (token = `[address ${p.of(r.tenantId, 'error-sip', r.epoch, `sip:${value}`).slice(0, 16)}]`));
    return token;
  };
  // A user id that is not an address (a GUID, DOMAIN\\name) is found by its value.
  const exact: Array<[string, string]> = e.UserId !== undefined && !userId!.includes('@') ? [[e.UserId.trim(), '[UserId]'], [userId!, '[UserId]']] : [];
  const text = (v: string): string => scrubIdentifiers(exact.length ? scrub(v, exact) : v, found);
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), clean(x)]));
    return v;
  };
  const details = {
    Message: e.Message, Exception: e.Exception, Log: e.Log, MessageDirection: e.MessageDirection, ConversationState: e.ConversationState,
    ConversationThreadId: e.ConversationThreadId, DeviceConfiguration: e.DeviceConfiguration, NetworkQuality: e.NetworkQuality,
  };
  return {
    tenant_id: r.tenantId, epoch: r.epoch, received_at: r.received, event_time: r.time, app_name: e.AppName, app_version: e.AppVersion,
    pool: e.Pool?.toLowerCase() ?? null, device_hash: p.of(r.tenantId, 'error-device', r.epoch, r.deviceId),
    user_hash: userId === undefined ? null : p.of(r.tenantId, 'error-user', r.epoch, userSha256 ?? sha256Hex(userId)),
    sip_uri: sipStored, ip_address: ipStored, identifiers_kept: keep ? 1 : 0, error_code: text(e.ErrorCode), details: JSON.stringify(clean(details)),
  };
}
