// The admin center's own telemetry (issue 11 §4): census and usage (pages used) — and error reports of admins who
// opted in — sent by the browser with the telemetry SDK. The browser cannot hold the tenant's ingestion key (it is
// shown once and kept only as a hash), so this same-origin relay takes the admin's session instead: the session
// cookie, and for a POST the session's CSRF token (Authenticator), and feeds the events to the same ingestBatch as
// /telemetry/v1 for the session's tenant (a ServiceAdmin: the tenant picked in the header, as the pages do). The
// paths mirror /telemetry/v1, so the SDK talks to it unchanged with serverUrl = <origin>/admin.
//
// The SDK file itself is the build's dist/telemetry/index.js (scripts/build.mjs), served as is: one bundle made
// once at build time, the same the package exports, rather than a second esbuild run at every start of mms serve.
// A checkout running its sources without a build has no such file: the admin center then sends no telemetry.
import fs from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { mmsVersion } from '../../cli/help.js';
import { MmsError } from '../../domain/errors.js';
import { listTenants } from '../../store/directory-repo.js';
import { sqlitePath } from '../../store/index.js';
import { getTelemetrySettings, type TelemetrySettingsRow } from '../../store/telemetry-repo.js';
import {
  batchBody, clientTelemetryConfig, DEFAULT_TELEMETRY_CONFIGURATION, DEFAULT_TELEMETRY_RATES, ingestBatch, normalizeUserId, Pseudonyms, sha256Hex, TELEMETRY_KINDS,
  TelemetryLimiters, telemetryKeyProblem, type EventResult, type IngestContext, type IngestOutcome,
} from '../../telemetry/index.js';
import { packageRoot } from '../../package-root.js';
import { HttpError } from '../errors.js';
import { readCookie } from '../sessions.js';
import type { AdminCenterOptions } from './admin-center.js';

/** The AppName the admin center reports as. */
export const ADMIN_CENTER_APP = 'mms-admin-center';
export const RELAY_PREFIX = '/admin/telemetry/v1';
export const SDK_PATH = '/static/telemetry/sdk.js';

function readSdk(): Buffer | undefined {
  const root = packageRoot();
  try {
    return root ? fs.readFileSync(new URL('dist/telemetry/index.js', root)) : undefined;
  } catch {
    return undefined;
  }
}

export function registerTelemetryRelay(app: FastifyInstance, opts: AdminCenterOptions, tenantCookie: string): void {
  const sdk = readSdk();
  const pseudonyms = new Pseudonyms({ telemetryKey: opts.config.telemetryKey, dialect: opts.db.dialect, sqliteFile: opts.db.dialect === 'sqlite' ? sqlitePath(opts.config.databaseUrl) : undefined });
  const ctx: IngestContext = { db: opts.db, pseudonyms, limiters: new TelemetryLimiters(DEFAULT_TELEMETRY_RATES, opts.now), now: opts.now };
  const keyed = (() => {
    try {
      pseudonyms.masterKey();
      return true;
    } catch (err) {
      if (err instanceof MmsError && err.code === 'Config') return false;
      throw err;
    }
  })();

  /** The signed-in admin (a browser session, never a token) and the tenant their telemetry belongs to. */
  const sessionTenant = async (request: FastifyRequest): Promise<{ userName: string; settings: TelemetrySettingsRow }> => {
    const caller = await opts.auth.principal(request, 'ReadOnly');
    if (caller.csrfToken === undefined) throw new HttpError(401, 'Unauthorized', 'the admin center\'s telemetry needs a browser session: sign in at /signin');
    let tenantId = caller.tenantId;
    if (tenantId === null) {
      const tenants = await listTenants(opts.db.kysely);
      const picked = cookieText(readCookie(request, tenantCookie));
      tenantId = (tenants.find((t) => t.name === picked) ?? tenants[0])?.id ?? null;
      if (tenantId === null) throw new HttpError(409, 'Conflict', 'there is no tenant yet to report telemetry for: create one with New-MmsTenant');
    }
    const settings = (await getTelemetrySettings(opts.db.kysely, tenantId)) ?? defaultSettings(tenantId);
    return { userName: caller.name, settings };
  };

  app.get(SDK_PATH, { schema: { hide: true } }, async (_request, reply) => {
    if (!sdk) throw new HttpError(404, 'NotFound', 'the telemetry SDK is not built: run npm run build');
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(sdk);
  });

  // What the page needs to start the SDK: whether to, and who the admin is (the SDK hashes the name for census).
  app.get('/admin/telemetry/session', { schema: { hide: true } }, async (request) => {
    const { userName } = await sessionTenant(request);
    return { Enabled: keyed && sdk !== undefined, AppName: ADMIN_CENTER_APP, AppVersion: mmsVersion(), UserName: userName };
  });

  // The same key check as /telemetry/v1: pseudonyms made under another key than the stored fingerprint's are refused.
  // Checked once per process, as there (telemetryKeyProblem may write the fingerprint), and again after a refusal so
  // that an admin's fix takes effect without a restart.
  let keyChecked = false;
  const checkedKey = async (): Promise<void> => {
    if (!keyed) throw new HttpError(503, 'Config', 'telemetry needs MMS_TELEMETRY_KEY on PostgreSQL');
    if (keyChecked) return;
    const problem = await telemetryKeyProblem(opts.db, pseudonyms, opts.now());
    if (problem) throw new HttpError(503, 'Config', problem);
    keyChecked = true;
  };

  // As /telemetry/v1/config, but the user is the session's: a body's UserId (the SDK sends one) is ignored, so a
  // page cannot ask about another admin's opt-in.
  app.post(`${RELAY_PREFIX}/config`, { schema: { hide: true, body: Type.Object({ AppName: Type.Optional(Type.String({ maxLength: 64 })), Pool: Type.Optional(Type.String({ maxLength: 256 })), UserId: Type.Optional(Type.String({ pattern: '^[0-9A-Fa-f]{64}$' })) }, { additionalProperties: false }) } }, async (request) => {
    const { userName, settings } = await sessionTenant(request);
    await checkedKey();
    return clientTelemetryConfig(opts.db, pseudonyms, settings, { appName: ADMIN_CENTER_APP, userSha256: sha256Hex(normalizeUserId(userName)) });
  });

  for (const kind of TELEMETRY_KINDS) {
    app.post(`${RELAY_PREFIX}/${kind}`, {
      bodyLimit: 512 * 1024,
      schema: { hide: true, body: batchBody() },
    }, async (request, reply) => {
      const { userName, settings } = await sessionTenant(request);
      await checkedKey();
      const outcome = await relayBatch(ctx, settings, kind, (request.body as { Events: unknown[] }).Events, request.ip, userName);
      if (outcome.Accepted === 0 && outcome.Results.every((r) => r.Reason === 'RateLimited')) return reply.header('retry-after', '60').status(429).send(outcome);
      return outcome;
    });
  }
}

/**
 * The session speaks for one admin of the admin center, nothing more: an event naming another app, or another user
 * (census: the hash of the session's name; error reports: the name itself), is refused before ingestion — a signed-in
 * ReadOnly admin could otherwise report as any app or user of the tenant. The rest goes to ingestBatch; the results
 * come back in the posted order, Index the position in the posted batch.
 */
async function relayBatch(ctx: IngestContext, settings: TelemetrySettingsRow, kind: (typeof TELEMETRY_KINDS)[number], events: readonly unknown[], ip: string, userName: string): Promise<IngestOutcome> {
  const own = normalizeUserId(userName);
  const results: Array<EventResult | undefined> = events.map((e, Index) => {
    const problem = notTheSessions(e, kind, own);
    return problem ? { Index, Status: 'Refused', Reason: 'Schema', Message: problem } : undefined;
  });
  const passed = events.flatMap((e, i) => (results[i] ? [] : [{ e, i }]));
  if (passed.length > 0) {
    const outcome = await ingestBatch(ctx, settings, kind, passed.map((p) => p.e), ip);
    for (const r of outcome.Results) results[passed[r.Index]!.i] = { ...r, Index: passed[r.Index]!.i };
  }
  const all = results as EventResult[];
  const accepted = all.filter((r) => r.Status === 'Accepted').length;
  return { Accepted: accepted, Refused: all.length - accepted, Results: all };
}

function notTheSessions(e: unknown, kind: string, ownId: string): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined; // ingestBatch refuses it with the schema's words
  const { AppName, UserId } = e as { AppName?: unknown; UserId?: unknown };
  if (AppName !== ADMIN_CENTER_APP) return `the admin center's relay takes only AppName '${ADMIN_CENTER_APP}': other apps report to /telemetry/v1 with their tenant's ingestion key`;
  if (kind === 'census' && (typeof UserId !== 'string' || UserId.toLowerCase() !== sha256Hex(ownId))) return 'a census UserId through the admin center\'s relay must be the SHA-256 of the signed-in admin\'s normalized name';
  if (kind === 'error' && UserId !== undefined && (typeof UserId !== 'string' || normalizeUserId(UserId) !== ownId)) return 'an error report through the admin center\'s relay may name only the signed-in admin as UserId';
  return undefined;
}

function cookieText(raw: string | undefined): string | undefined {
  try {
    return raw ? decodeURIComponent(raw) : undefined;
  } catch {
    return undefined; // a hand-edited cookie: the first tenant, as the pages do
  }
}

/** A tenant that never changed its telemetry settings has the defaults (no row is written for them). */
function defaultSettings(tenantId: string): TelemetrySettingsRow {
  const d = DEFAULT_TELEMETRY_CONFIGURATION;
  return {
    tenant_id: tenantId, disable_automatic_send_tracing: d.disableAutomaticSendTracing ? 1 : 0, keep_error_report_identifiers: d.keepErrorReportIdentifiers ? 1 : 0,
    retention_days: d.retentionDays, error_report_retention_days: d.errorReportRetentionDays, min_group_size: d.minGroupSize, key_epoch: d.keyEpoch,
    ingestion_key_sha256: null, ingestion_key_created_at: null, modified_at: 0,
  };
}
