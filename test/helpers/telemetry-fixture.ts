// A telemetry world for the issue-11 tests: a fresh database with tenants, each with an ingestion key, the REST app
// (Fastify inject) logging into a buffer, a settable clock, and event builders.
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { CMDLETS } from '../../src/cli/cmdlets/index.js';
import { loadConfig } from '../../src/config.js';
import { buildApi } from '../../src/http/app.js';
import { sha256Hex } from '../../src/telemetry/index.js';
import { runMms, type CliOutcome } from './cli-run.js';
import type { TestDatabase } from './databases.js';

export const NOW = Date.UTC(2026, 10, 30, 12);
export const DAY = 86_400_000;

export interface TelemetryWorld {
  readonly fresh: Awaited<ReturnType<TestDatabase['fresh']>>;
  app: FastifyInstance;
  readonly env: Record<string, string>;
  readonly keys: Record<string, string>;
  readonly log: () => string;
  clock: number;
  mms(...argv: string[]): Promise<CliOutcome>;
  /** `mms … --json` that must succeed, parsed. */
  json(...argv: string[]): Promise<any>;
  post(kind: 'census' | 'usage' | 'error', events: unknown[], key?: string): Promise<{ status: number; body: any }>;
  config(query: Record<string, string>, key?: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** Tenants Contoso and Fabrikam, each with an ingestion key. PostgreSQL gets MMS_TELEMETRY_KEY; SQLite uses its key file. */
export async function telemetryWorld(t: TestDatabase, opts: { perDevicePerMinute?: number; bodyLimit?: number } = {}): Promise<TelemetryWorld> {
  const fresh = await t.fresh();
  const env: Record<string, string> = { MMS_DATABASE_URL: fresh.url, MMS_ACTOR: 'tester', MMS_TENANT: 'Contoso' };
  if (t.name === 'postgres') env.MMS_TELEMETRY_KEY = randomBytes(32).toString('base64');
  let text = '';
  const sink = new Writable({ write(c, _e, done) { text += String(c); done(); } });
  const world: TelemetryWorld = {
    fresh, env, keys: {}, log: () => text, clock: NOW,
    app: undefined as unknown as FastifyInstance,
    mms: (...argv) => runMms(env, () => world.clock, argv),
    async json(...argv) {
      const r = await world.mms(...argv, '--json');
      if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.err}`);
      return JSON.parse(r.out);
    },
    async post(kind, events, key = world.keys.Contoso) {
      const r = await world.app.inject({ method: 'POST', url: `/telemetry/v1/${kind}`, headers: key ? { authorization: `MmsTelemetry ${key}` } : {}, payload: { Events: events } });
      return { status: r.statusCode, body: r.json() };
    },
    async config(query, key = world.keys.Contoso) {
      const r = await world.app.inject({ method: 'GET', url: '/telemetry/v1/config', query, headers: key ? { authorization: `MmsTelemetry ${key}` } : {} });
      return { status: r.statusCode, body: r.json() };
    },
    async close() {
      await world.app?.close();
      await fresh.drop();
    },
  };
  for (const [name, domain] of [['Contoso', 'contoso.com'], ['Fabrikam', 'fabrikam.com']] as const) {
    const r = await world.mms('New-MmsTenant', name, '-Domain', domain);
    if (r.code !== 0) throw new Error(r.err);
    world.keys[name] = (await world.json('New-MmsTelemetryIngestionKey', '-Tenant', name)).IngestionKey;
  }
  const logger = pino({ level: 'trace' }, sink);
  world.app = await buildApi({ db: fresh.db, config: loadConfig(env), cmdlets: CMDLETS, now: () => world.clock, loggerInstance: logger as never, telemetry: opts });
  return world;
}

export const deviceId = (): string => randomUUID().toUpperCase();

/** What a client sends as census UserId: SHA-256 of the normalized id. */
export const clientHash = (userId: string): string => sha256Hex(userId.trim().toLowerCase().replace(/^sip:/, ''));

export function census(userId: string, device = deviceId(), extra: Record<string, unknown> = {}) {
  return { AppName: 'iPhoneSkype', AppVersion: '6.1', DeviceId: device, DeviceModel: 'iPhone', OsName: 'iPhoneiOS', OsVersion: '8.3', UserLanguage: 'EN-US', UserId: clientHash(userId), SignInAttempts: 3, SignInFailures: 1, ...extra };
}

export function usage(device = deviceId(), extra: Record<string, unknown> = {}) {
  return { AppName: 'SkypeDesktop', AppVersion: '16.0', DeviceId: device, ImSent: 12, ImReceived: 5, MeetingJoinAttempts: 5, MeetingJoinSuccesses: 4, CallMinutes: 30, FederationPartner: 'microsoft.com', ...extra };
}

export function errorReport(userId: string | undefined, device = deviceId(), extra: Record<string, unknown> = {}) {
  return { AppName: 'SkypeDesktop', AppVersion: '16.0', DeviceId: device, ...(userId === undefined ? {} : { UserId: userId }), ErrorCode: '0x8007', MessageDirection: 'Incoming', ConversationState: 'Idle', ConversationThreadId: 'AdDO8hsJqilU93hQHC3OZaPR2saEA==', ...extra };
}

/** Status and Reason of each result, for compact assertions. */
export const outcomes = (body: any): string[] => (body.Results as Array<{ Status: string; Reason?: string }>).map((r) => (r.Reason ? `${r.Status}:${r.Reason}` : r.Status));
