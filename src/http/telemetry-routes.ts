// Client telemetry ingestion (issue 11 §4): POST /telemetry/v1/census|usage|error with a batch of events and
// GET /telemetry/v1/config, authenticated by the tenant's ingestion key (`Authorization: MmsTelemetry <key>`, from
// New-MmsTelemetryIngestionKey) — never an admin token or session. Each event is accepted or refused on its own;
// the answer is 200 with one result per event (429 when every event was over the device's allowance). Nothing a
// client sends is logged: the request line carries the path only.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Config } from '../config.js';
import { sqlitePath, type Db } from '../store/index.js';
import { MmsError } from '../domain/errors.js';
import {
  clientTelemetryConfig, DeviceRateLimiter, EVENT_SCHEMAS, ingestBatch, MAX_EVENTS_PER_BATCH, Pseudonyms, TELEMETRY_KINDS, tenantOfIngestionKey,
  type IngestContext, type TelemetrySettingsRow,
} from '../telemetry/index.js';
import { HttpError } from './errors.js';

/** No telemetry key (PostgreSQL without MMS_TELEMETRY_KEY) is the service's problem, not the client's: 503, with the fix. */
async function withKey<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MmsError && err.code === 'Config') throw new HttpError(503, 'Config', err.message);
    throw err;
  }
}

export interface TelemetryRouteOptions {
  readonly db: Db;
  readonly config: Config;
  readonly now: () => number;
  /** Events one device may send per minute (default 600). */
  readonly perDevicePerMinute?: number;
  /** Largest request body in bytes (default 512 KiB). */
  readonly bodyLimit?: number;
}

const SCHEME = 'MmsTelemetry';
const TAG = 'Client telemetry (ingestion)';

const Result = Type.Object({
  Index: Type.Integer({ description: 'The event\'s position in the batch, from 0.' }),
  Status: Type.Union([Type.Literal('Accepted'), Type.Literal('Refused')]),
  Reason: Type.Optional(Type.String({ description: 'Why it was refused: DisableAutomaticSendTracing, ErrorReportingOptIn, MeetingUxEnableTelemetry (the switch), Schema, UserIdentifierNotAllowed or RateLimited.' })),
  Message: Type.Optional(Type.String()),
});
const Outcome = Type.Object({ Accepted: Type.Integer(), Refused: Type.Integer(), Results: Type.Array(Result) });
const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });

const ClientConfig = Type.Object({
  Census: Type.Boolean({ description: 'Always true: census has no switch.' }),
  Usage: Type.Boolean({ description: 'false when the tenant sets DisableAutomaticSendTracing (or, for a meetings app, the pool\'s MeetingUxEnableTelemetry is false).' }),
  ErrorReporting: Type.Boolean({ description: 'Whether this user\'s (or this meetings app\'s) error reports are accepted.' }),
  MeetingUxEnableTelemetry: Type.Optional(Type.Boolean({ description: 'The pool\'s switch, when Pool was given.' })),
  MaxEventsPerBatch: Type.Integer(),
});

/** Registers the ingestion routes and their event schemas (listed in the OpenAPI document's components). */
export function registerTelemetry(app: FastifyInstance, opts: TelemetryRouteOptions): void {
  const pseudonyms = new Pseudonyms({ telemetryKey: opts.config.telemetryKey, dialect: opts.db.dialect, sqliteFile: opts.db.dialect === 'sqlite' ? sqlitePath(opts.config.databaseUrl) : undefined });
  const ctx: IngestContext = { db: opts.db, pseudonyms, limiter: new DeviceRateLimiter(opts.perDevicePerMinute ?? 600, opts.now), now: opts.now };
  for (const schema of Object.values(EVENT_SCHEMAS)) app.addSchema(schema);

  const tenantOf = async (request: FastifyRequest, reply: FastifyReply): Promise<TelemetrySettingsRow | undefined> => {
    const m = new RegExp(`^${SCHEME}\\s+(\\S+)\\s*$`, 'i').exec(request.headers.authorization ?? '');
    const row = m ? await tenantOfIngestionKey(opts.db, m[1]!) : undefined;
    if (row) return row;
    const message = m
      ? 'the ingestion key is not valid (it may have been replaced): get the current one from New-MmsTelemetryIngestionKey'
      : `telemetry needs the tenant's ingestion key: send Authorization: ${SCHEME} <key> (an admin makes one with New-MmsTelemetryIngestionKey)`;
    reply.header('www-authenticate', `${SCHEME} realm="mms-telemetry"`).status(401).send({ error: 'Unauthorized', message });
    return undefined;
  };

  for (const kind of TELEMETRY_KINDS) {
    app.post(`/telemetry/v1/${kind}`, {
      bodyLimit: opts.bodyLimit ?? 512 * 1024,
      schema: {
        operationId: `PostTelemetry${kind[0]!.toUpperCase()}${kind.slice(1)}`,
        summary: `Sends a batch of ${kind} events.`,
        description: `Each item of Events is a ${EVENT_SCHEMAS[kind].$id} (see components.schemas), checked on its own: a malformed or refused event is reported in Results and never refuses the rest. At most ${MAX_EVENTS_PER_BATCH} events per request.`,
        tags: [TAG],
        security: [{ telemetryKey: [] }],
        body: Type.Object({ Events: Type.Array(Type.Unknown({ description: EVENT_SCHEMAS[kind].$id }), { minItems: 1, maxItems: MAX_EVENTS_PER_BATCH }) }, { additionalProperties: false }),
        response: { 200: Outcome, 429: Outcome, 401: ErrorBody },
      },
    }, async (request, reply) => {
      const tenant = await tenantOf(request, reply);
      if (!tenant) return reply;
      const outcome = await withKey(() => ingestBatch(ctx, tenant, kind, (request.body as { Events: unknown[] }).Events));
      if (outcome.Accepted === 0 && outcome.Results.every((r) => r.Reason === 'RateLimited')) {
        return reply.header('retry-after', '60').status(429).send(outcome);
      }
      return reply.status(200).send(outcome);
    });
  }

  app.get('/telemetry/v1/config', {
    schema: {
      operationId: 'GetTelemetryConfig',
      summary: 'What this client may send, so that nothing that would be refused is sent.',
      description: 'UserId is the SHA-256 (hex) of the normalized user id, as in census events: the user id itself never travels in a URL.',
      tags: [TAG],
      security: [{ telemetryKey: [] }],
      querystring: Type.Object({
        AppName: Type.Optional(Type.String({ maxLength: 64 })),
        Pool: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.-]{1,253}$' })),
        UserId: Type.Optional(Type.String({ pattern: '^[0-9A-Fa-f]{64}$' })),
      }, { additionalProperties: false }),
      response: { 200: ClientConfig, 401: ErrorBody },
    },
  }, async (request, reply) => {
    const tenant = await tenantOf(request, reply);
    if (!tenant) return reply;
    const q = request.query as { AppName?: string; Pool?: string; UserId?: string };
    return withKey(() => clientTelemetryConfig(opts.db, pseudonyms, tenant, { appName: q.AppName, pool: q.Pool, userSha256: q.UserId }));
  });
}
