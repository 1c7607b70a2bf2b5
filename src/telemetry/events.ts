// The events clients send (issue 11 §1), as TypeBox schemas: one source for the per-event check here and for the
// OpenAPI document (http/telemetry-routes.ts). Field names follow the reference's data tables (AppName, OSName →
// OsName, UserLanguage, UserId, DeviceId). Census carries nothing that names the organization, so no Pool; usage
// carries no user identifier at all.
import { Type, type Static } from '@sinclair/typebox';
import type { ErrorObject, ValidateFunction } from 'ajv';

export const TELEMETRY_KINDS = ['census', 'usage', 'error'] as const;
export type TelemetryKind = (typeof TELEMETRY_KINDS)[number];

/** The Skype Meetings App and the join launcher pages: governed per pool by MeetingUxEnableTelemetry. */
export const MEETING_UX_APPS = ['SkypeMeetingsApp', 'JoinLauncher'] as const;
const MEETING_UX_LOWER: ReadonlySet<string> = new Set(MEETING_UX_APPS.map((a) => a.toLowerCase()));
export const isMeetingUxApp = (appName: string): boolean => MEETING_UX_LOWER.has(appName.toLowerCase());

/** Most events one request may carry. */
export const MAX_EVENTS_PER_BATCH = 500;

const text = (max: number, description: string) => Type.String({ minLength: 1, maxLength: max, description });
const count = (description: string) => Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, description }));

const common = {
  Time: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$', description: 'When it happened, ISO 8601 with zone (default: when MMS receives it).' })),
  AppName: text(64, 'The client app, e.g. iPhoneSkype, SkypeMeetingsApp, JoinLauncher, mms-cli.'),
  AppVersion: text(32, 'The app\'s version.'),
  DeviceId: Type.String({ pattern: '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$', description: 'A GUID generated once on the device (stored only as a keyed hash).' }),
};
const pool = Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.-]{1,253}$', description: 'The pool (FQDN) the client is connected to; needed for SkypeMeetingsApp and JoinLauncher events, which its MeetingUxEnableTelemetry governs.' }));

export const CensusEvent = Type.Object({
  ...common,
  DeviceModel: text(64, 'e.g. iPhone'),
  OsName: text(64, 'e.g. iPhoneiOS'),
  OsVersion: text(32, 'e.g. 8.3'),
  UserLanguage: Type.String({ pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$', description: 'e.g. EN-US' }),
  UserId: Type.String({ pattern: '^[0-9A-Fa-f]{64}$', description: 'SHA-256 (hex) of the normalized user id (trimmed, lower case, no sip:), made on the client; MMS keys it again before storing.' }),
  SignInAttempts: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  SignInFailures: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
}, { additionalProperties: false, $id: 'TelemetryCensusEvent', description: 'Census: always accepted (no switch).' });

export const UsageEvent = Type.Object({
  ...common,
  Pool: pool,
  CallsMade: count('Calls made.'),
  ImSent: count('IMs sent.'),
  ImReceived: count('IMs received.'),
  MeetingJoinAttempts: count('Meetings joined (attempts).'),
  MeetingJoinSuccesses: count('Meetings joined (successes).'),
  CallMinutes: count('Call minutes.'),
  MeetingMinutes: count('Meeting minutes.'),
  StabilityIssues: count('Crashes, hangs and other stability issues.'),
  FeaturesUsed: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9._-]{0,63}$' }), Type.Integer({ minimum: 0, maximum: 1_000_000_000 }), { maxProperties: 100, description: 'Feature (a cmdlet, a page) → times used.' })),
  FederationPartner: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.-]{1,253}$', description: 'The federated organization\'s domain; stored as sent (the reference documents it in clear).' })),
}, { additionalProperties: false, $id: 'TelemetryUsageEvent', description: 'Usage: refused when the tenant sets DisableAutomaticSendTracing; no user identifier is accepted.' });

export const ErrorEvent = Type.Object({
  ...common,
  Pool: pool,
  UserId: Type.Optional(text(256, 'The user id in clear: required, except from SkypeMeetingsApp / JoinLauncher, whose reports (collected without a user opt-in) may not carry it. MMS keys it before storing.')),
  SipUri: Type.Optional(text(256, 'The user\'s SIP URI; stored keyed-hashed unless the tenant sets KeepErrorReportIdentifiers.')),
  IpAddress: Type.Optional(text(64, 'The client\'s IP address; stored as its /24 (IPv4) or /48 (IPv6) unless the tenant sets KeepErrorReportIdentifiers.')),
  ErrorCode: text(64, 'The error code.'),
  Message: Type.Optional(Type.String({ maxLength: 2000 })),
  Exception: Type.Optional(Type.String({ maxLength: 8000 })),
  Log: Type.Optional(Type.String({ maxLength: 16_000 })),
  MessageDirection: Type.Optional(Type.Union([Type.Literal('Incoming'), Type.Literal('Outgoing')])),
  ConversationState: Type.Optional(Type.String({ maxLength: 64 })),
  ConversationThreadId: Type.Optional(Type.String({ maxLength: 128 })),
  DeviceConfiguration: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 256 }), { maxProperties: 50 })),
  NetworkQuality: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.Number(), Type.String({ maxLength: 64 })]), { maxProperties: 50 })),
}, { additionalProperties: false, $id: 'TelemetryErrorEvent', description: 'Error report: needs DisableAutomaticSendTracing false and the user\'s ErrorReportingOptIn (SkypeMeetingsApp / JoinLauncher: the pool\'s MeetingUxEnableTelemetry instead).' });

export type CensusEvent = Static<typeof CensusEvent>;
export type UsageEvent = Static<typeof UsageEvent>;
export type ErrorEvent = Static<typeof ErrorEvent>;

export const EVENT_SCHEMAS = { census: CensusEvent, usage: UsageEvent, error: ErrorEvent } as const;

// Bodies keep their types (no coercion), as the REST API's do; every problem of an event is one line.
// Ajv is imported and the validators compiled by loadEventValidators, not at import: every `mms` command imports this
// module, and Ajv's start (it compiles its meta-schema to check ours) cost a cold cmdlet ~100 ms that only ingestion needs.
interface Validators { readonly census: ValidateFunction; readonly usage: ValidateFunction; readonly error: ValidateFunction; readonly envelope: ValidateFunction }
let compiled: Validators | undefined;
let loading: Promise<void> | undefined;

/** Makes the validators envelopeProblem and schemaProblem use; the ingestion paths await it before their first batch. */
export function loadEventValidators(): Promise<void> {
  loading ??= (async () => {
    // Ajv is CommonJS: its module.exports (the default export, both through node and the bundle's chunk) carries the class.
    const { Ajv } = (await import('ajv')).default;
    const ajv = new Ajv({ coerceTypes: false, allErrors: false, strict: false });
    compiled = { census: ajv.compile(stripId(CensusEvent)), usage: ajv.compile(stripId(UsageEvent)), error: ajv.compile(stripId(ErrorEvent)), envelope: ajv.compile(batchBody()) };
  })().catch((err: unknown) => {
    loading = undefined; // the next caller tries again
    throw err;
  });
  return loading;
}

function validators(): Validators {
  if (!compiled) throw new Error('the telemetry event validators are not loaded: await loadEventValidators() first');
  return compiled;
}

function stripId(schema: object): object {
  const { $id: _id, ...rest } = schema as Record<string, unknown>;
  return rest;
}

/**
 * A request's body: `{ "Events": [...] }`, 1 to MAX_EVENTS_PER_BATCH of them. The routes print it into the OpenAPI
 * document; the ingestion threads, which get the body as bytes, check it with the same options the REST API's body
 * validator has, so a bad body is refused with the same words (envelopeProblem).
 */
export const batchBody = (items: ReturnType<typeof Type.Unknown> = Type.Unknown()) => Type.Object({ Events: Type.Array(items, { minItems: 1, maxItems: MAX_EVENTS_PER_BATCH }) }, { additionalProperties: false });

/** undefined when `body` is a batch's body, else the validator's first error (what the REST API's answer is made from). */
export function envelopeProblem(body: unknown): ErrorObject | undefined {
  const envelope = validators().envelope;
  if (envelope(body)) return undefined;
  return envelope.errors?.[0] ?? { keyword: 'type', instancePath: '', schemaPath: '#', params: {}, message: 'is not valid' };
}

/** Field names that identify a user: a usage event carrying one is refused with its own reason. */
const USER_IDENTIFIERS: ReadonlySet<string> = new Set(['userid', 'userprincipalname', 'upn', 'sipuri', 'sipaddress', 'username', 'email', 'emailaddress', 'user']);

/** The user-identifying field a usage event carries, if any. */
export function userIdentifierIn(event: Record<string, unknown>): string | undefined {
  for (const k in event) if (Object.hasOwn(event, k) && USER_IDENTIFIERS.has(k.toLowerCase())) return k;
  return undefined;
}

/** undefined when `event` is a valid `kind` event, else one line naming the field and the problem. */
export function schemaProblem(kind: TelemetryKind, event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'an event must be a JSON object';
  const v = validators()[kind];
  if (v(event)) return undefined;
  return describe(v.errors?.[0]);
}

function describe(e: ErrorObject | undefined): string {
  if (!e) return 'the event does not match its schema';
  const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'the event';
  if (e.keyword === 'additionalProperties') return `${at === 'the event' ? 'the event' : at} has a field not in the schema: ${String((e.params as { additionalProperty?: string }).additionalProperty)}`;
  if (e.keyword === 'required') return `${String((e.params as { missingProperty?: string }).missingProperty)} is required`;
  return `${at} ${e.message ?? 'is not valid'}`;
}
