// The part of ingesting a batch that needs no database (issue 11 §4, §7): the body parsed, each event checked on its
// own (schema, clear-text fields, the switches known from the tenant's settings), and the row of every event that
// may be stored made — users and devices keyed-hashed, IP addresses truncated, free text scrubbed. It runs in an
// ingestion thread (ingest-pool.ts) or, with MMS_TELEMETRY_THREADS=0, on the main thread: the same function either
// way. What comes back is plain lists of strings and numbers, cheap to hand from a thread to the main thread, which
// then only reads opt-ins and pool switches, applies the allowances and inserts (ingest.ts).
import { isIP } from 'node:net';
import type { ErrorObject } from 'ajv';
import { TELEMETRY_COLUMNS, TELEMETRY_SHARED_COLUMNS, USAGE_COUNT_FIELDS } from '../store/telemetry-repo.js';
import { envelopeProblem, isMeetingUxApp, schemaProblem, userIdentifierIn, type CensusEvent, type ErrorEvent, type TelemetryKind, type UsageEvent } from './events.js';
import { sha256Hex, type Pseudonyms } from './keys.js';
import { normalizeSipUri, normalizeUserId, scrub, scrubIdentifiers, truncateIp, type Identified } from './privacy.js';

/** What a batch is prepared with: the body and what the tenant's settings say. Plain data (it crosses to a thread). */
export interface PrepareJob {
  readonly kind: TelemetryKind;
  /** The request body as sent (bytes of JSON), or events already parsed (the admin center's relay). */
  readonly body: Uint8Array | readonly unknown[];
  readonly tenantId: string;
  readonly epoch: number;
  readonly tracingDisabled: boolean;
  readonly keepIdentifiers: boolean;
  /** When MMS received the batch: the Time of events that carry none. */
  readonly received: number;
}

/** Refusal reasons decided here, by code (RefusalReason in ingest.ts names them). */
export const PREPARE_REASONS = ['Schema', 'UserIdentifierNotAllowed', 'DisableAutomaticSendTracing'] as const;

/** Candidate flags. */
export const BAD_IP = 1;
/** An error report of a meetings app that names a user: refused whatever its pool's switch says (ingest.ts). */
export const UX_NAMES_USER = 2;

export interface Prepared {
  /** The body is not a batch: not JSON (`syntax`, the parser's words) or not `{ Events: [1..500] }` (`validation`). */
  readonly bodyProblem?: { readonly syntax?: string; readonly validation?: ErrorObject };
  /** Events in the batch. */
  readonly count: number;
  /** Refused events, three entries each: index, index into PREPARE_REASONS, message ('' for the reason's own). */
  readonly refused: Array<number | string>;
  /** Per candidate — an event past every check that needs no database — in batch order: its index in the batch, */
  readonly index: number[];
  /** its DeviceId in lower case (its allowance's key), */
  readonly device: string[];
  /** the key of the opt-in it needs ('' when none), */
  readonly optInKey: string[];
  /** the pool whose MeetingUxEnableTelemetry decides it, in lower case ('' when none), */
  readonly pool: string[];
  /** BAD_IP | UX_NAMES_USER, */
  readonly flags: number[];
  /**
   * and its row: the columns of TELEMETRY_COLUMNS[kind], the shared ones (tenant, epoch, received) included, so that
   * the main thread hands a batch whose candidates all pass to the insert as it came (null for one that cannot be stored).
   */
  readonly values: unknown[];
}

/** Values per candidate row: TELEMETRY_COLUMNS[kind]. */
export const rowWidth = (kind: TelemetryKind): number => TELEMETRY_COLUMNS[kind].length;

/** Where AppName is in a candidate's row: after the shared columns and event_time. */
export const APP_NAME = TELEMETRY_SHARED_COLUMNS + 1;

export const USER_IDENTIFIER_MESSAGE = 'usage events carry no user identifier: remove the field (census carries the client-hashed UserId; error reports, for opted-in users, the UserId)';

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

/** Parses and checks one batch and makes the rows of the events that may be stored. Never throws on input. */
export function prepareBatch(job: PrepareJob, pseudonyms: Pseudonyms): Prepared {
  let events: readonly unknown[];
  if (job.body instanceof Uint8Array) {
    let body: unknown;
    try {
      const text = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength).toString('utf8');
      // A byte order mark is skipped, as the REST API's JSON parser does.
      body = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch (err) {
      return emptyWith({ syntax: (err as Error).message });
    }
    const validation = envelopeProblem(body);
    if (validation) return emptyWith({ validation });
    events = (body as { Events: unknown[] }).Events;
  } else events = job.body;

  const { kind } = job;
  const out: Prepared = { count: events.length, refused: [], index: [], device: [], optInKey: [], pool: [], flags: [], values: [] };
  const row = new RowMaker(job, pseudonyms, out.values);
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (kind === 'usage' && event && typeof event === 'object' && !Array.isArray(event)) {
      const field = userIdentifierIn(event as Record<string, unknown>);
      if (field) {
        out.refused.push(i, 1, `${field}: ${USER_IDENTIFIER_MESSAGE}`);
        continue;
      }
    }
    const problem = schemaProblem(kind, event) ?? identifierIn(event as Record<string, unknown>);
    if (problem) {
      out.refused.push(i, 0, problem);
      continue;
    }
    const e = event as CensusEvent | UsageEvent | ErrorEvent;
    const time = e.Time === undefined ? job.received : Date.parse(e.Time);
    if (!Number.isFinite(time)) {
      out.refused.push(i, 0, 'Time is not a date: write it like 2026-11-30T12:00:00Z');
      continue;
    }
    const deviceId = e.DeviceId.toLowerCase();
    if (kind === 'census') {
      candidate(out, i, deviceId, '', '', 0);
      row.census(e as CensusEvent, time, deviceId);
      continue;
    }
    const ev = e as UsageEvent | ErrorEvent;
    if (job.tracingDisabled) {
      out.refused.push(i, 2, '');
      continue;
    }
    const ux = isMeetingUxApp(ev.AppName);
    if (ux && !ev.Pool) {
      out.refused.push(i, 0, `Pool is required for ${ev.AppName} events: the pool's MeetingUxEnableTelemetry decides whether they are collected`);
      continue;
    }
    const pool = ux ? ev.Pool!.toLowerCase() : '';
    if (kind === 'usage') {
      candidate(out, i, deviceId, '', pool, 0);
      row.usage(ev as UsageEvent, time, deviceId);
      continue;
    }
    const er = ev as ErrorEvent;
    const badIp = er.IpAddress !== undefined && truncateIp(er.IpAddress) === undefined ? BAD_IP : 0;
    if (ux) {
      // No user opt-in for these apps: their reports may not name a user (ingest.ts refuses them after the pool's switch).
      const namesUser = er.UserId !== undefined || er.SipUri !== undefined ? UX_NAMES_USER : 0;
      candidate(out, i, deviceId, '', pool, badIp | namesUser);
      if (badIp | namesUser) row.none(ev.AppName);
      else row.error(er, time, deviceId, undefined);
      continue;
    }
    if (er.UserId === undefined) {
      out.refused.push(i, 0, 'UserId is required: error reports are collected only for users who opted in');
      continue;
    }
    const userSha256 = sha256Hex(normalizeUserId(er.UserId));
    candidate(out, i, deviceId, pseudonyms.optInKey(job.tenantId, userSha256), '', badIp);
    if (badIp) row.none(ev.AppName);
    else row.error(er, time, deviceId, userSha256);
  }
  return out;
}

function emptyWith(bodyProblem: NonNullable<Prepared['bodyProblem']>): Prepared {
  return { bodyProblem, count: 0, refused: [], index: [], device: [], optInKey: [], pool: [], flags: [], values: [] };
}

function candidate(out: Prepared, index: number, device: string, optInKey: string, pool: string, flags: number): void {
  out.index.push(index);
  out.device.push(device);
  out.optInKey.push(optInKey);
  out.pool.push(pool);
  out.flags.push(flags);
}

/** Appends each candidate's row to `values`, in TELEMETRY_COLUMNS order after the shared columns. */
class RowMaker {
  private readonly p: Pseudonyms;
  private readonly tenantId: string;
  private readonly epoch: number;
  private readonly received: number;
  private readonly keep: boolean;
  private readonly width: number;
  /**
   * Another person's address in an error report's text → its token, for the batch: the same peer is named again and
   * again in one log and across a batch's reports, and each token is an HMAC (the bench's profile).
   */
  private readonly addressTokens = new Map<string, string>();
  /** Likewise per batch: what each text matched in free text is (scrubIdentifiers), and each IP address's network. */
  private readonly identified = new Map<string, Identified>();
  private readonly networks = new Map<string, string>();

  constructor(job: PrepareJob, p: Pseudonyms, private readonly values: unknown[]) {
    this.p = p;
    this.tenantId = job.tenantId;
    this.epoch = job.epoch;
    this.received = job.received;
    this.keep = job.keepIdentifiers;
    this.width = rowWidth(job.kind);
  }

  private hash(context: 'census-user' | 'census-device' | 'usage-device' | 'error-user' | 'error-device' | 'error-sip', value: string): string {
    return this.p.of(this.tenantId, context, this.epoch, value);
  }

  /** A candidate that will be refused (ingest.ts): its place in the list and its AppName (for the message), no work. */
  none(appName: string): void {
    for (let k = 0; k < this.width; k++) this.values.push(k === APP_NAME ? appName : null);
  }

  /** The columns every row of the batch shares (TELEMETRY_SHARED_COLUMNS). */
  private shared(): void {
    this.values.push(this.tenantId, this.epoch, this.received);
  }

  census(e: CensusEvent, time: number, deviceId: string): void {
    this.shared();
    this.values.push(
      time, e.AppName, e.AppVersion, e.DeviceModel, e.OsName, e.OsVersion, e.UserLanguage.toLowerCase(),
      // The second hash the reference promises: the client's SHA-256, keyed again.
      this.hash('census-user', e.UserId.toLowerCase()), this.hash('census-device', deviceId), e.SignInAttempts, e.SignInFailures,
    );
  }

  usage(e: UsageEvent, time: number, deviceId: string): void {
    this.shared();
    const counts: Record<string, number> = {};
    for (const f of USAGE_COUNT_FIELDS) if (e[f] !== undefined) counts[f] = e[f];
    this.values.push(
      time, e.AppName, e.AppVersion, e.Pool?.toLowerCase() ?? null, this.hash('usage-device', deviceId),
      JSON.stringify(counts), JSON.stringify(e.FeaturesUsed ?? {}), e.FederationPartner?.toLowerCase() ?? null,
    );
  }

  error(e: ErrorEvent, time: number, deviceId: string, userSha256: string | undefined): void {
    const keep = this.keep;
    const userId = e.UserId === undefined ? undefined : normalizeUserId(e.UserId);
    const sip = e.SipUri === undefined ? undefined : normalizeSipUri(e.SipUri);
    const ip = e.IpAddress?.trim();
    const sipStored = sip === undefined ? null : keep ? sip : this.hash('error-sip', sip);
    const ipStored = ip === undefined ? null : keep ? ip : truncateIp(ip)!;
    // Every address in the free text: the user's own id and URI by what is stored for them, anyone else's by a short
    // keyed hash (the same address is the same token, which is what reading a log needs) and IP addresses truncated.
    // What the tenant keeps (-KeepErrorReportIdentifiers) is the reporting user's own URI and address, no one else's.
    const own = sip?.slice(4);
    const found = (kind: 'address' | 'ip', value: string, asWritten: string): string => {
      if (kind === 'ip') {
        if (keep && value === ip) return asWritten;
        let net = this.networks.get(value);
        if (net === undefined) this.networks.set(value, (net = truncateIp(value)!));
        return net;
      }
      if (value === userId) return '[UserId]';
      if (value === own) return keep ? asWritten : '[SipUri]';
      let token = this.addressTokens.get(value);
      if (token === undefined) this.addressTokens.set(value, (token = `[address ${this.hash('error-sip', `sip:${value}`).slice(0, 16)}]`));
      return token;
    };
    // A user id that is not an address (a GUID, DOMAIN\\name) is found by its value.
    const exact: Array<[string, string]> = e.UserId !== undefined && !userId!.includes('@') ? [[e.UserId.trim(), '[UserId]'], [userId!, '[UserId]']] : [];
    const text = (v: string): string => scrubIdentifiers(exact.length ? scrub(v, exact) : v, found, this.identified);
    const clean = (v: unknown): unknown => {
      if (typeof v === 'string') return text(v);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), clean(x)]));
      return v;
    };
    const details = {
      Message: e.Message, Exception: e.Exception, Log: e.Log, MessageDirection: e.MessageDirection, ConversationState: e.ConversationState,
      ConversationThreadId: e.ConversationThreadId, DeviceConfiguration: e.DeviceConfiguration, NetworkQuality: e.NetworkQuality,
    };
    this.shared();
    this.values.push(
      time, e.AppName, e.AppVersion, e.Pool?.toLowerCase() ?? null, this.hash('error-device', deviceId),
      userId === undefined ? null : this.hash('error-user', userSha256 ?? sha256Hex(userId)),
      sipStored, ipStored, keep ? 1 : 0, text(e.ErrorCode), JSON.stringify(clean(details)),
    );
  }
}
