// Ingestion (issue 11 §4): a batch of one kind, each event accepted or refused on its own — the switch that refuses
// it named, or the schema problem — and the accepted ones written in one transaction. What is written has been
// through the privacy rules: users and devices as HMACs of the tenant's current epoch, IP addresses truncated, SIP
// URIs keyed-hashed unless the tenant keeps identifiers, and every address in free text replaced (privacy.ts).
//
// The work that needs no database — parsing, checks, HMACs, scrubbing, the rows — is prepareBatch's
// (ingest-prepare.ts), in an ingestion thread (ingest-pool.ts) or on this thread; all of it is done before the write
// transaction begins, so no lock is held while error text is scrubbed. Here: the pools' switches, then in the
// transaction the opt-ins, the allowances and the insert.
import type { ErrorObject } from 'ajv';
import type { Db } from '../store/index.js';
import { insertTelemetryValues, optedInKeys, type TelemetrySettingsRow } from '../store/telemetry-repo.js';
import { writeTransaction, type Tx } from '../store/transaction.js';
import { meetingUxEnabled } from './client-config.js';
import { loadEventValidators, type TelemetryKind } from './events.js';
import type { IngestPool } from './ingest-pool.js';
import { APP_NAME, BAD_IP, PREPARE_REASONS, prepareBatch, rowWidth, USER_IDENTIFIER_MESSAGE, UX_NAMES_USER, type Prepared } from './ingest-prepare.js';
import type { Pseudonyms } from './keys.js';
import { addressBucket } from './privacy.js';
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
  /** The ingestion threads; without (of size 0, or none ready yet), batches are prepared on this thread. */
  readonly pool?: IngestPool;
}

/**
 * A request body that is not a batch, refused as a whole (400) with the words the REST API uses for any body: the
 * error has the shape of the web framework's own parse and validation errors, which http/errors.ts answers.
 */
export class BatchBodyError extends Error {
  readonly statusCode = 400;
  readonly validationContext = 'body';
  constructor(message: string, readonly validation?: ErrorObject[]) {
    super(message);
  }
}

const MESSAGES: Record<Exclude<RefusalReason, 'Schema'>, string> = {
  DisableAutomaticSendTracing: 'the tenant sets DisableAutomaticSendTracing: usage data and error reports are not collected (Set-MmsTelemetryConfiguration -DisableAutomaticSendTracing false turns them on)',
  ErrorReportingOptIn: 'the user has not opted in to error reporting (Set-MmsUserTelemetry -ErrorReportingOptIn true); POST /telemetry/v1/config tells a client before it sends',
  MeetingUxEnableTelemetry: 'the pool\'s MeetingUxEnableTelemetry is false (the default): Skype Meetings App and join launcher data is not collected (Set-CsWebServiceConfiguration -Identity <pool> -MeetingUxEnableTelemetry true)',
  UserIdentifierNotAllowed: USER_IDENTIFIER_MESSAGE,
  RateLimited: 'this device sent more events than its per-minute allowance: send them again later',
};

/** The other two allowances (rate-limit.ts): a DeviceId is the client's to choose, its address and key are not. */
const MESSAGES_LIMIT = {
  ip: 'this client address sent more events than its per-minute allowance: send them again later',
  key: 'this ingestion key sent more events than its per-minute allowance: send them again later',
} as const;

const ACCEPTED = 'Accepted' as const;
const refused = (Index: number, Reason: RefusalReason, Message?: string): EventResult => ({ Index, Status: 'Refused', Reason, Message: Message || MESSAGES[Reason as Exclude<RefusalReason, 'Schema'>] });

/**
 * Checks and stores one batch of `kind` events for the tenant whose settings are `tenant`, sent from `clientIp`:
 * `body` is the request body's bytes (or the events, parsed). Everything that needs no database is decided first
 * (prepareBatch); then one write transaction reads the opt-ins the batch needs (locked on PostgreSQL, under the
 * write lock on SQLite) and inserts what is accepted, one statement per table — so an opt-out cannot land between
 * the check and the insert and leave a report behind. Throws BatchBodyError when the body is not a batch.
 */
export async function ingestBatch(ctx: IngestContext, tenant: TelemetrySettingsRow, kind: TelemetryKind, body: Uint8Array | readonly unknown[], clientIp: string): Promise<IngestOutcome> {
  const master = ctx.pseudonyms.masterKey(); // no key (PostgreSQL without MMS_TELEMETRY_KEY): the whole batch fails with the fix
  const job = {
    kind, body, tenantId: tenant.tenant_id, epoch: tenant.key_epoch, tracingDisabled: tenant.disable_automatic_send_tracing === 1,
    keepIdentifiers: tenant.keep_error_report_identifiers === 1, received: ctx.now(),
  };
  const inThread = ctx.pool && ctx.pool.size > 0 ? ctx.pool.prepare(job, master) : undefined;
  if (!inThread) await loadEventValidators();
  const p = inThread ? await inThread : prepareBatch(job, ctx.pseudonyms);
  if (p.bodyProblem) {
    const { syntax, validation } = p.bodyProblem;
    throw validation ? new BatchBodyError(validation.message ?? 'the body is not valid', [validation]) : new BatchBodyError(syntax ?? 'the body is not JSON');
  }
  const results: EventResult[] = new Array(p.count);
  for (let r = 0; r < p.refused.length; r += 3) {
    const i = p.refused[r] as number;
    results[i] = refused(i, PREPARE_REASONS[p.refused[r + 1] as number]!, p.refused[r + 2] as string);
  }
  // The Meetings app and the join launcher: the pool's switch, looked up once per pool in the batch.
  const width = rowWidth(kind);
  const live: number[] = [];
  const pools = new Map<string, boolean>();
  for (let c = 0; c < p.index.length; c++) if (p.pool[c]) pools.set(p.pool[c]!, false);
  for (const name of pools.keys()) pools.set(name, await meetingUxEnabled(ctx.db, tenant.tenant_id, name));
  for (let c = 0; c < p.index.length; c++) {
    const pool = p.pool[c]!;
    if (pool) {
      const i = p.index[c]!;
      if (!pools.get(pool)) {
        results[i] = refused(i, 'MeetingUxEnableTelemetry');
        continue;
      }
      // No user opt-in for these apps (the reference's document): their reports may not name a user — or any client
      // could label a report as theirs and store a user's identifiers without that user's consent.
      if (p.flags[c]! & UX_NAMES_USER) {
        const app = p.values[c * width + APP_NAME] as string;
        results[i] = refused(i, 'ErrorReportingOptIn', `${app} error reports are collected without a user's opt-in, so they may not carry UserId or SipUri: leave both out`);
        continue;
      }
    }
    live.push(c);
  }
  if (live.length) await writeTransaction(ctx.db, (tx) => decideAndInsert(ctx, tx, tenant, kind, p, live, results, clientIp));
  let accepted = 0;
  for (const r of results) if (r.Status === ACCEPTED) accepted++;
  return { Accepted: accepted, Refused: results.length - accepted, Results: results };
}

/** Inside the write transaction: the opt-ins, the allowances, the rows. `live`: the candidates still in. */
async function decideAndInsert(ctx: IngestContext, tx: Tx, tenant: TelemetrySettingsRow, kind: TelemetryKind, p: Prepared, live: readonly number[], results: EventResult[], clientIp: string): Promise<void> {
  const keys = new Set<string>();
  for (const c of live) if (p.optInKey[c]) keys.add(p.optInKey[c]!);
  const opted = keys.size ? await optedInKeys(tx, ctx.db.dialect, tenant.tenant_id, [...keys]) : undefined;
  const passed: number[] = [];
  for (const c of live) {
    const i = p.index[c]!;
    const key = p.optInKey[c];
    if (key && !opted!.has(key)) results[i] = refused(i, 'ErrorReportingOptIn');
    else if (p.flags[c]! & BAD_IP) results[i] = refused(i, 'Schema', 'IpAddress is not an IPv4 or IPv6 address');
    else passed.push(c);
  }
  // Last, so that refused events use up no allowance: the client address's and the key's for the whole batch (what is
  // not used goes back), then each device's.
  const { device, ip, key } = ctx.limiters;
  const address = addressBucket(clientIp);
  const fromIp = ip.takeUpTo(address, passed.length);
  const budget = key.takeUpTo(tenant.tenant_id, fromIp);
  let left = budget;
  const tenantId = tenant.tenant_id;
  const now = ctx.now();
  const accepted: number[] = [];
  for (const c of passed) {
    const i = p.index[c]!;
    if (!device.take(p.device[c]!, now, tenantId)) {
      results[i] = refused(i, 'RateLimited');
      continue;
    }
    if (left === 0) {
      results[i] = refused(i, 'RateLimited', budget < fromIp ? MESSAGES_LIMIT.key : MESSAGES_LIMIT.ip);
      continue;
    }
    left--;
    accepted.push(c);
    results[i] = { Index: i, Status: ACCEPTED };
  }
  ip.giveBack(address, fromIp - (budget - left));
  key.giveBack(tenantId, left);
  await insertTelemetryValues(tx, ctx.db.dialect, kind, accepted.length, acceptedRows(p, rowWidth(kind), accepted));
}

/**
 * The rows of the `accepted` candidates, in order: the prepared list as it came when every candidate is accepted
 * (the usual batch), else those rows copied out of it.
 */
function acceptedRows(p: Prepared, width: number, accepted: readonly number[]): readonly unknown[] {
  if (accepted.length === p.index.length) return p.values;
  const values: unknown[] = [];
  for (const c of accepted) for (let k = c * width, end = k + width; k < end; k++) values.push(p.values[k]);
  return values;
}
