// Client telemetry ingestion (issue 11 §4): POST /telemetry/v1/census|usage|error with a batch of events and
// GET|POST /telemetry/v1/config, authenticated by the tenant's ingestion key (`Authorization: MmsTelemetry <key>`,
// from New-MmsTelemetryIngestionKey) — never an admin token or session. Each event is accepted or refused on its
// own; the answer is 200 with one result per event (429 when every event was over an allowance: the device's, the
// client address's or the key's). Nothing a client sends is logged: the request line carries the path only, which
// is why a user's hash goes in POST /telemetry/v1/config's body and never in a URL.
import { errorCodes, type FastifyBodyParser, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Config } from '../config.js';
import { sqlitePath, type Db } from '../store/index.js';
import { MmsError } from '../domain/errors.js';
import {
  addressBucket, BatchBodyError, batchBody, clientTelemetryConfig, DEFAULT_TELEMETRY_RATES, envelopeProblem, EVENT_SCHEMAS, ingestBatch, loadEventValidators, IngestPool, MAX_EVENTS_PER_BATCH, Pseudonyms, RateLimiter, TELEMETRY_KINDS,
  TelemetryLimiters, telemetryKeyProblem, tenantOfIngestionKey, type IngestContext, type IngestOutcome, type TelemetrySettingsRow,
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

declare module 'fastify' {
  interface FastifyInstance {
    /** The telemetry ingestion threads (MMS_TELEMETRY_THREADS): their count and state, for diagnostics and tests. */
    readonly telemetryPool: IngestPool;
  }
}

export interface TelemetryRouteOptions {
  readonly db: Db;
  readonly config: Config;
  readonly now: () => number;
  /** Events one device may send per minute (default 600). */
  readonly perDevicePerMinute?: number;
  /** Events one client IP address may send per minute (default 60,000). */
  readonly perIpPerMinute?: number;
  /** Events one ingestion key (tenant) may take per minute (default 600,000). */
  readonly perKeyPerMinute?: number;
  /** Largest request body in bytes (default 512 KiB). */
  readonly bodyLimit?: number;
}

const SCHEME = 'MmsTelemetry';
const AUTHORIZATION = new RegExp(`^${SCHEME}\\s+(\\S+)\\s*$`, 'i');
/**
 * Opt-in lookups (a UserId given to /config) per minute: a client asks once when it starts, so these are far above
 * what clients need and far below what it takes to walk a directory of users to learn who opted in.
 */
const LOOKUPS_PER_IP_PER_MINUTE = 600;
const LOOKUPS_PER_KEY_PER_MINUTE = 6_000;
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

/** `{"Index":i,"Status":"Accepted"}` for every index a batch can have: most of every answer, made once. */
const ACCEPTED_JSON = Array.from({ length: MAX_EVENTS_PER_BATCH }, (_, i) => `{"Index":${i},"Status":"Accepted"}`);

/**
 * The answer as the Outcome schema serializes it — the same fields in the same order — written directly: the
 * schema's serializer checked each result against the Status union, a cost per event (the bench's profile).
 */
function outcomeJson(o: IngestOutcome): string {
  let s = `{"Accepted":${o.Accepted},"Refused":${o.Refused},"Results":[`;
  for (let i = 0; i < o.Results.length; i++) {
    const r = o.Results[i]!;
    if (i) s += ',';
    s += r.Status === 'Accepted' && r.Index < ACCEPTED_JSON.length ? ACCEPTED_JSON[r.Index] : JSON.stringify({ Index: r.Index, Status: r.Status, Reason: r.Reason, Message: r.Message });
  }
  return `${s}]}`;
}

/** Registers the ingestion routes and their event schemas (listed in the OpenAPI document's components). */
export function registerTelemetry(app: FastifyInstance, opts: TelemetryRouteOptions): void {
  const pseudonyms = new Pseudonyms({ telemetryKey: opts.config.telemetryKey, dialect: opts.db.dialect, sqliteFile: opts.db.dialect === 'sqlite' ? sqlitePath(opts.config.databaseUrl) : undefined });
  const rates = {
    perDevicePerMinute: opts.perDevicePerMinute ?? DEFAULT_TELEMETRY_RATES.perDevicePerMinute,
    perIpPerMinute: opts.perIpPerMinute ?? DEFAULT_TELEMETRY_RATES.perIpPerMinute,
    perKeyPerMinute: opts.perKeyPerMinute ?? DEFAULT_TELEMETRY_RATES.perKeyPerMinute,
  };
  // The body validator below is synchronous: its Ajv validators are made before the server answers anything.
  app.addHook('onReady', loadEventValidators);
  // The ingestion threads (MMS_TELEMETRY_THREADS), started by the first batch and ended with the app.
  const pool = new IngestPool(opts.config.telemetryThreads, { info: (m) => app.log.info(m), error: (m) => app.log.error(m) });
  app.addHook('onClose', async () => pool.close());
  // With the key in the environment the threads start with the service; else with the first batch (the key file is
  // made then, not before). Batches that come while they load are prepared on the main thread.
  app.addHook('onReady', async () => {
    if (opts.config.telemetryKey) pool.start(opts.config.telemetryKey);
  });
  app.decorate('telemetryPool', pool);
  const ctx: IngestContext = { db: opts.db, pseudonyms, limiters: new TelemetryLimiters(rates, opts.now), now: opts.now, pool };
  const lookups = { ip: new RateLimiter(LOOKUPS_PER_IP_PER_MINUTE, opts.now), key: new RateLimiter(LOOKUPS_PER_KEY_PER_MINUTE, opts.now, 10_000) };
  for (const schema of Object.values(EVENT_SCHEMAS)) app.addSchema(schema);

  // The key must be the one the stored pseudonyms were made with; checked once per process (and again after a
  // refusal, so that an admin's fix takes effect without a restart).
  let keyChecked = false;
  const checkedKey = async (): Promise<void> => {
    if (keyChecked) return;
    const problem = await telemetryKeyProblem(opts.db, pseudonyms, opts.now());
    if (problem) {
      app.log.error(problem);
      throw new HttpError(503, 'Config', problem);
    }
    keyChecked = true;
  };

  const tenantOf = async (request: FastifyRequest, reply: FastifyReply): Promise<TelemetrySettingsRow | undefined> => {
    const m = AUTHORIZATION.exec(request.headers.authorization ?? '');
    const row = m ? await tenantOfIngestionKey(opts.db, m[1]!) : undefined;
    if (row) return row;
    const message = m
      ? 'the ingestion key is not valid (it may have been replaced): get the current one from New-MmsTelemetryIngestionKey'
      : `telemetry needs the tenant's ingestion key: send Authorization: ${SCHEME} <key> (an admin makes one with New-MmsTelemetryIngestionKey)`;
    reply.header('www-authenticate', `${SCHEME} realm="mms-telemetry"`).status(401).send({ error: 'Unauthorized', message });
    return undefined;
  };

  // The batch routes take their body as bytes, which go to an ingestion thread as they are (parsed there, checked there
  // against the same body schema, refused with the same words: ingest.ts). A body the framework's JSON parser would
  // refuse for other reasons than its syntax — empty, or with a "__proto__" or "constructor" key, also written with
  // \u00XX escapes — or that merely might, is parsed here by that parser, so it is refused exactly as before.
  const jsonParser = app.getDefaultJsonParser('error', 'error') as unknown as FastifyBodyParser<Buffer>;
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      const bytes = body as Buffer;
      if (bytes.length === 0 || bytes.includes('"__proto__"') || bytes.includes('"constructor"') || bytes.includes('\\u00')) return jsonParser(request, bytes, done);
      done(null, bytes);
    });
    for (const kind of TELEMETRY_KINDS) {
      scope.post(`/telemetry/v1/${kind}`, {
        bodyLimit: opts.bodyLimit ?? 512 * 1024,
        schema: {
          operationId: `PostTelemetry${kind[0]!.toUpperCase()}${kind.slice(1)}`,
          summary: `Sends a batch of ${kind} events.`,
          description: `Each item of Events is a ${EVENT_SCHEMAS[kind].$id} (see components.schemas), checked on its own: a malformed or refused event is reported in Results and never refuses the rest. At most ${MAX_EVENTS_PER_BATCH} events per request.`,
          tags: [TAG],
          security: [{ telemetryKey: [] }],
          body: batchBody(Type.Unknown({ description: EVENT_SCHEMAS[kind].$id })),
          response: { 200: Outcome, 429: Outcome, 401: ErrorBody },
        },
        // Bytes are checked by the thread; a body parsed here (above) the way the REST API checks any body.
        validatorCompiler: ({ httpPart }) => (data: unknown) => {
          if (httpPart !== 'body' || data instanceof Uint8Array) return true;
          const problem = envelopeProblem(data);
          return problem ? { error: [problem] } : true;
        },
      }, async (request, reply) => {
        const tenant = await tenantOf(request, reply);
        if (!tenant) return reply;
        const body = request.body instanceof Uint8Array ? request.body : (request.body as { Events: unknown[] }).Events;
        const outcome = await withKey(async () => {
          await checkedKey();
          return ingestBatch(ctx, tenant, kind, body, request.ip);
        }).catch((err: unknown) => {
          // Not JSON: the words the framework's own parser answers with.
          throw err instanceof BatchBodyError && !err.validation ? new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY() : err;
        });
        const json = reply.type('application/json; charset=utf-8');
        if (outcome.Accepted === 0 && outcome.Results.every((r) => r.Reason === 'RateLimited')) {
          return json.header('retry-after', '60').status(429).send(outcomeJson(outcome));
        }
        return json.status(200).send(outcomeJson(outcome));
      });
    }
  });

  const config = async (request: FastifyRequest, reply: FastifyReply, q: { AppName?: string; Pool?: string; UserId?: string }) => {
    const tenant = await tenantOf(request, reply);
    if (!tenant) return reply;
    if (q.UserId !== undefined) {
      const ip = lookups.ip.take(addressBucket(request.ip));
      if (!ip || !lookups.key.take(tenant.tenant_id)) {
        if (ip) lookups.ip.giveBack(addressBucket(request.ip), 1);
        return reply.header('retry-after', '60').status(429).send({ error: 'TooManyRequests', message: 'too many opt-in lookups from this client address or ingestion key: ask again in a minute (a client needs one when it starts)' });
      }
    }
    return withKey(async () => {
      await checkedKey();
      return clientTelemetryConfig(opts.db, pseudonyms, tenant, { appName: q.AppName, pool: q.Pool, userSha256: q.UserId });
    });
  };
  const AppName = Type.Optional(Type.String({ maxLength: 64 }));
  const Pool = Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.-]{1,253}$' }));
  const response = { 200: ClientConfig, 401: ErrorBody, 429: ErrorBody };

  app.get('/telemetry/v1/config', {
    schema: {
      operationId: 'GetTelemetryConfig',
      summary: 'What this client may send (census, usage; error reports of a meetings app), so that nothing that would be refused is sent.',
      description: 'Without a user: a user\'s ErrorReporting comes from POST /telemetry/v1/config, whose body carries the user\'s hash (a URL lands in proxy logs).',
      tags: [TAG],
      security: [{ telemetryKey: [] }],
      querystring: Type.Object({ AppName, Pool }, { additionalProperties: false }),
      response,
    },
    // Before validation, so that a client sending UserId the old way hears where it goes instead of "additional properties".
    preValidation: async (request) => {
      if (Object.hasOwn(request.query as object, 'UserId')) throw new HttpError(400, 'BadRequest', 'UserId does not go in the URL (proxies and logs keep URLs): POST /telemetry/v1/config with {"UserId": "<SHA-256 hex>"} in the body');
    },
  }, async (request, reply) => config(request, reply, request.query as { AppName?: string; Pool?: string }));

  app.post('/telemetry/v1/config', {
    schema: {
      operationId: 'PostTelemetryConfig',
      summary: 'What this client and user may send, so that nothing that would be refused is sent.',
      description: `UserId is the SHA-256 (hex) of the normalized user id, as in census events. Lookups with a UserId are limited per client address (${LOOKUPS_PER_IP_PER_MINUTE}/min) and per ingestion key (${LOOKUPS_PER_KEY_PER_MINUTE}/min): 429 beyond.`,
      tags: [TAG],
      security: [{ telemetryKey: [] }],
      body: Type.Object({ AppName, Pool, UserId: Type.Optional(Type.String({ pattern: '^[0-9A-Fa-f]{64}$' })) }, { additionalProperties: false }),
      response,
    },
  }, async (request, reply) => config(request, reply, (request.body ?? {}) as { AppName?: string; Pool?: string; UserId?: string }));
}
