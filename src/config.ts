import os from 'node:os';
import path from 'node:path';
import { MmsError } from './domain/errors.js';
import { parseSecretKey } from './secrets/secret-box.js';
import { parseTelemetryKey } from './telemetry/keys.js';

/** Every setting the service reads, resolved once from the environment. */
export interface Config {
  /** `postgres://…` selects PostgreSQL; a path or `sqlite:` URL selects SQLite. */
  readonly databaseUrl: string;
  readonly dialect: 'sqlite' | 'postgres';
  /** Tenant name or domain the cmdlets act on when `-Tenant` is not given. */
  readonly tenant: string | undefined;
  /** How long after its last trigger a request becomes runnable (coalesces bursts of admin changes). */
  readonly migrationDelayMs: number;
  /** Days of migration history kept. */
  readonly historyDays: number;
  /** The service mailbox that sends updates on the organizer's behalf (`ORGANIZER;SENT-BY=`). */
  readonly serviceAddress: string;
  /** Load the Contoso demo organization when `serve` starts on an empty database. */
  readonly demoOnFirstStart: boolean;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** A worker's claim on a request lasts this long unless renewed; another worker reclaims it after. */
  readonly leaseMs: number;
  /** How often an idle worker looks for runnable requests. */
  readonly pollMs: number;
  /**
   * PostgreSQL: where the worker's LISTEN connection goes (MMS_DATABASE_LISTEN_URL); undefined: MMS_DATABASE_URL.
   * Set when that URL is a pooler in transaction mode, which passes no notifications on.
   */
  readonly databaseListenUrl: string | undefined;
  /** Attempts before a transiently failing request ends Failed, and the first retry delay (doubled each time). */
  readonly retryAttempts: number;
  readonly retryBaseMs: number;
  /** Meetings written per transaction. */
  readonly batchSize: number;
  /**
   * Key that seals mailbox passwords (AES-256-GCM). Unset: SQLite keeps a generated key file beside the database;
   * PostgreSQL refuses to store a password until it is set.
   */
  readonly secretKey: Buffer | undefined;
  /**
   * Key telemetry pseudonyms are made with (HMAC-SHA256, keys derived per tenant, epoch and context). Unset: SQLite
   * keeps a generated key file beside the database; PostgreSQL refuses telemetry until it is set.
   */
  readonly telemetryKey: Buffer | undefined;
  /** Threads that check, hash and scrub client telemetry beside the main thread (MMS_TELEMETRY_THREADS); 0: on it. */
  readonly telemetryThreads: number;
  /** The SMTP server `mms serve` sends the outbox through; undefined: messages stay Queued. */
  readonly smtp: SmtpSettings | undefined;
  /** Messages per second sent to the SMTP server (MMS_SMTP_RATE). */
  readonly smtpRate: number;
  /** A remote `mms`: cmdlets call this service's REST API (MMS_SERVER_URL, MMS_TOKEN) instead of opening a database. */
  readonly server: { readonly url: string; readonly token: string } | undefined;
  /** Where `mms serve` answers the REST API (MMS_HTTP_ADDRESS); undefined: it does not listen. */
  readonly http: { readonly host: string; readonly port: number } | undefined;
  /** SQLite: how long a statement waits in all for another process's write lock (MMS_BUSY_WAIT). */
  readonly busyWaitMs: number;
  /** The address admins open in a browser (MMS_PUBLIC_URL), for sign-in links; undefined: built from MMS_HTTP_ADDRESS. */
  readonly publicUrl: string | undefined;
  /** Believe X-Forwarded-Proto/-For from a TLS proxy in front (MMS_TRUST_PROXY): Secure cookies, sign-in limits per client. */
  readonly trustProxy: boolean;
}

/** Where and how the outbox is sent (MMS_SMTP_URL, parsed and checked at start). */
export interface SmtpSettings {
  /** The URL with any password hidden, for logs and messages. */
  readonly display: string;
  readonly host: string;
  readonly port: number;
  /**
   * `implicit`: TLS from the first byte (`smtps://`); `starttls`: the server must offer STARTTLS and the session
   * upgrades before anything is sent (`smtp://`); `none`: plain text, only on a loopback host when asked for.
   */
  readonly tls: 'implicit' | 'starttls' | 'none';
  readonly auth: { readonly user: string; readonly pass: string } | undefined;
}

/** One row per variable: the README and `mms help` print this table. */
export const CONFIG_VARIABLES = [
  ['MMS_DATABASE_URL', './data/mms.sqlite', 'Database: a file path or sqlite:PATH for SQLite, postgres://user@host:port/db for PostgreSQL.'],
  ['MMS_DATABASE_LISTEN_URL', '(MMS_DATABASE_URL)', 'PostgreSQL: the connection each mms serve LISTENs on, so that queued requests wake its worker at once. When MMS_DATABASE_URL goes through a pooler in transaction mode (pgbouncer), which passes no notifications on, give a direct connection to the same database here: postgres://user@db-host:5432/db (one connection per mms serve). Unset and behind such a pooler, the worker finds requests by polling (MMS_POLL_INTERVAL) and says so once.'],
  ['MMS_TENANT', '(the only tenant)', 'Tenant name or domain used when a cmdlet has no -Tenant.'],
  ['MMS_MIGRATION_DELAY', '5s', 'Wait after the last trigger before a request runs (ms, or with s/m/h suffix). Range: 0 to 24h.'],
  ['MMS_HISTORY_DAYS', '150', 'Days of migration status history kept. Range: 1 to 3650.'],
  ['MMS_SERVICE_ADDRESS', 'mms@<tenant domain>', 'Mailbox that sends updates on the organizer\'s behalf.'],
  ['MMS_DEMO', 'true', 'Load the Contoso demo organization when the service starts on an empty database.'],
  ['MMS_LOG_LEVEL', 'info', 'fatal, error, warn, info, debug, trace or silent.'],
  ['MMS_LEASE', '60s', 'How long a worker\'s claim on a request lasts without renewal; then another worker takes it over (below a few seconds only for tests). Range: 100ms to 1h.'],
  ['MMS_POLL_INTERVAL', '1s', 'The longest an idle worker waits before it looks for runnable requests again (the fallback): it sleeps until the next request is due, and a new one wakes it at once (PostgreSQL: LISTEN/NOTIFY; SQLite: a trigger in mms serve, or another process\'s commit). Range: 10ms to 10m.'],
  ['MMS_RETRY_ATTEMPTS', '9', 'Attempts before a transiently failing request ends Failed. Range: 1 to 100.'],
  ['MMS_RETRY_BASE', '340s', 'First retry delay, doubled each attempt with ±20% jitter (9 attempts span about 24 hours). Range: 100ms to 24h.'],
  ['MMS_BATCH_SIZE', '50', 'Meetings written per database transaction. Range: 1 to 10000.'],
  ['MMS_BUSY_WAIT', '30s', 'SQLite: how long a command or the worker waits in all for the write lock another process holds, without blocking, before it says the database is busy. Range: 0 to 10m.'],
  ['MMS_SECRET_KEY', '(SQLite: key file beside the database)', 'Key that encrypts stored mailbox passwords, peppers leader PIN hashes and seals a PIN waiting in the outbox: 32 bytes as base64 or 64 hex digits (openssl rand -base64 32). Required on PostgreSQL once a password is stored, and for peppered PINs.'],
  ['MMS_TELEMETRY_KEY', '(SQLite: key file beside the database)', 'Key telemetry pseudonyms (user and device ids) are made with, HMAC-SHA256: at least 32 bytes as base64 or hex (openssl rand -base64 32). Required on PostgreSQL for telemetry. A different key than the one the stored pseudonyms were made with is refused (503 with the fix); -RotateKey starts a new epoch instead.'],
  ['MMS_TELEMETRY_THREADS', '(CPU cores - 1, at least 1)', 'Threads of mms serve that parse, check, hash and scrub client telemetry batches, so that the main thread only stores them: 0 does that work on the main thread. Range: 0 to 64.'],
  ['MMS_TELEMETRY_INGESTION_KEY', '(unset: the CLI sends no telemetry)', 'Opt-in telemetry of the mms CLI itself: the tenant\'s ingestion key (New-MmsTelemetryIngestionKey); each run reports the cmdlet used, census once a day.'],
  ['MMS_TELEMETRY_URL', '(MMS_SERVER_URL)', 'The MMS service the CLI\'s telemetry goes to, e.g. https://mms.contoso.com.'],
  ['MMS_TELEMETRY_DIR', '~/.mms/telemetry', 'Where the CLI keeps its DeviceId and the events a run could not send (the next run sends them).'],
  ['MMS_SMTP_URL', '(unset: updates stay Queued)', 'SMTP server mms serve sends updates through: smtp://[user:pass@]host:587 (STARTTLS required), smtps://…:465 (TLS), smtp://127.0.0.1:25?tls=none (plain, loopback only).'],
  ['MMS_SMTP_RATE', '10', 'Messages per second sent to the SMTP server (per service process). Range: above 0 to 10000.'],
  ['MMS_HTTP_ADDRESS', '127.0.0.1:8080', 'Where mms serve answers the REST API and /healthz: host:port ([::1]:8080 for IPv6; port 0 picks a free one), or off. Plain HTTP: put a TLS proxy in front for other machines.'],
  ['MMS_PUBLIC_URL', '(unset: from MMS_HTTP_ADDRESS)', 'The address admins open in a browser, e.g. https://mms.contoso.com behind a TLS proxy; sign-in links (New-MmsAdmin, first start) point there.'],
  ['MMS_TRUST_PROXY', 'false', 'true when mms serve is reached only through a TLS proxy: X-Forwarded-Proto https makes session cookies Secure, X-Forwarded-For is the client address the sign-in limit counts.'],
  ['MMS_SERVER_URL', '(unset: use the database)', 'Run cmdlets against a remote MMS over its REST API: https://mms.contoso.com (http:// only to a loopback host). Needs MMS_TOKEN.'],
  ['MMS_TOKEN', '(unset)', 'The API token (from New-MmsApiToken) a remote mms sends; the audit log names changes by its name.'],
  ['MMS_ACTOR', '(the OS user)', 'Name recorded in the audit log for changes made with mms.'],
  ['MMS_DEBUG', '(unset)', '1 adds stack traces to error messages; tx prints write-transaction figures and lock waits on stderr at exit (SQLite); 1,tx both.'],
  ['MMS_TEST_DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/test', 'Tests only: the PostgreSQL server the suite uses.'],
  ['MMS_REQUIRE_ALL', '(unset)', 'Tests only: 1 makes a missing PostgreSQL, Radicale, DAViCal or Chromium a failure instead of a skip.'],
  ['MMS_CHROMIUM', '/usr/bin/chromium', 'Tests only: the Chromium the browser tests drive.'],
  ['MMS_CRASH_SEED', '(random)', 'Tests only: replays a crash-test kill schedule (the test prints its seed).'],
  ['MMS_CRASH_ROUNDS', '20', 'Tests only: rounds of the crash test.'],
  ['MMS_TEST_CONCURRENCY', '2', 'Tests only: how many test files npm test runs at once.'],
] as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The accepted range of every numeric setting (durations in ms). A value outside it stops the service at start:
 * a zero lease or poll interval would spin, a week-long one would never recover work. `minExclusive`: the
 * minimum itself is refused (a rate of 0 would never send). CONFIG_VARIABLES and the README state the same ranges.
 */
export const CONFIG_RANGES = {
  MMS_MIGRATION_DELAY: { min: 0, max: 24 * 3_600_000, duration: true },
  MMS_HISTORY_DAYS: { min: 1, max: 3650, duration: false },
  // Leases and retry waits as short as 100 ms are for tests and drills (crash tests reclaim killed workers' leases fast).
  MMS_LEASE: { min: 100, max: 3_600_000, duration: true },
  MMS_POLL_INTERVAL: { min: 10, max: 600_000, duration: true },
  MMS_RETRY_ATTEMPTS: { min: 1, max: 100, duration: false },
  MMS_RETRY_BASE: { min: 100, max: 24 * 3_600_000, duration: true },
  MMS_BATCH_SIZE: { min: 1, max: 10_000, duration: false },
  MMS_SMTP_RATE: { min: 0, max: 10_000, duration: false, minExclusive: true },
  // 0: give up after SQLite's own short busy timeout (a script that would rather retry itself).
  MMS_BUSY_WAIT: { min: 0, max: 600_000, duration: true },
  MMS_TELEMETRY_THREADS: { min: 0, max: 64, duration: false },
} as const satisfies Record<string, { min: number; max: number; duration: boolean; minExclusive?: boolean }>;

type RangedSetting = keyof typeof CONFIG_RANGES;

/** A duration as written in the ranges: 10ms, 1s, 10m, 24h. */
function showDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A setting's range as CONFIG_VARIABLES, the README and the error messages state it ("10ms to 10m"). */
export function rangeText(name: RangedSetting): string {
  const r: { min: number; max: number; duration: boolean; minExclusive?: boolean } = CONFIG_RANGES[name];
  const show = (n: number) => (r.duration ? showDuration(n) : String(n));
  return `${r.minExclusive ? `above ${show(r.min)}` : show(r.min)} to ${show(r.max)}`;
}

/** Refuses a value outside its setting's range, naming the range and the default. */
function inRange(name: RangedSetting, raw: string, value: number): number {
  const r: { min: number; max: number; minExclusive?: boolean } = CONFIG_RANGES[name];
  const low = r.minExclusive ? value <= r.min : value < r.min;
  if (low || value > r.max) {
    const def = CONFIG_VARIABLES.find(([n]) => n === name)?.[1];
    fail(name, raw, `the range is ${rangeText(name)}${def ? ` (default ${def})` : ''}`);
  }
  return value;
}

function fail(name: string, value: string, fix: string): never {
  throw new MmsError('Config', `${name}=${JSON.stringify(value)} is not valid: ${fix}`);
}

/** Parses `5000`, `5s`, `2m`, `1h` into milliseconds. */
export function parseDuration(name: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!m) fail(name, value, 'give milliseconds (5000) or a number with s, m or h (5s, 2m, 1h)');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

function parseBool(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return fail(name, value, 'use true or false');
}

function positiveInt(name: 'MMS_RETRY_ATTEMPTS' | 'MMS_BATCH_SIZE', value: string): number {
  if (!/^\s*\d+\s*$/.test(value)) fail(name, value, `give a whole number, ${rangeText(name)}`);
  return inRange(name, value, Number(value));
}

/** A duration setting, parsed and checked against its range. */
function duration(name: 'MMS_MIGRATION_DELAY' | 'MMS_LEASE' | 'MMS_POLL_INTERVAL' | 'MMS_RETRY_BASE' | 'MMS_BUSY_WAIT', value: string): number {
  return inRange(name, value, parseDuration(name, value));
}

/**
 * MMS_BUSY_WAIT in ms (default 30 s). openDatabase reads it itself when its caller passes none, so every command
 * and the service wait alike; loadConfig checks it at start like every other setting.
 */
export function busyWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  return duration('MMS_BUSY_WAIT', env.MMS_BUSY_WAIT ?? '30s');
}

/** Returns the dialect a database URL selects. */
export function dialectOf(url: string): 'sqlite' | 'postgres' {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(url) && !/^sqlite:/i.test(url)) {
    fail('MMS_DATABASE_URL', url, 'use postgres://user@host:port/db, sqlite:PATH or a plain file path');
  }
  return 'sqlite';
}

/** Reads the environment once into a frozen config; a bad value fails at start with a fix-it message. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.MMS_DATABASE_URL?.trim() || path.join('data', 'mms.sqlite');
  const days = env.MMS_HISTORY_DAYS ?? '150';
  if (!/^\d+$/.test(days.trim())) fail('MMS_HISTORY_DAYS', days, 'give a whole number of days, 1 or more');
  inRange('MMS_HISTORY_DAYS', days, Number(days));
  const logLevel = (env.MMS_LOG_LEVEL ?? 'info').trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) fail('MMS_LOG_LEVEL', logLevel, `use one of ${LOG_LEVELS.join(', ')}`);
  const serviceAddress = env.MMS_SERVICE_ADDRESS?.trim() ?? '';
  if (serviceAddress && !/^[^@\s]+@[^@\s]+$/.test(serviceAddress)) fail('MMS_SERVICE_ADDRESS', serviceAddress, 'give a mail address like mms@contoso.com');
  const rawKey = env.MMS_SECRET_KEY?.trim();
  const secretKey = rawKey ? parseSecretKey(rawKey) : undefined;
  // The value itself is never echoed: it is a secret.
  if (rawKey && !secretKey) throw new MmsError('Config', 'MMS_SECRET_KEY is not valid: give 32 bytes as base64 or 64 hex digits (openssl rand -base64 32)');
  const rawTelemetryKey = env.MMS_TELEMETRY_KEY?.trim();
  const telemetryKey = rawTelemetryKey ? parseTelemetryKey(rawTelemetryKey) : undefined;
  if (rawTelemetryKey && !telemetryKey) throw new MmsError('Config', 'MMS_TELEMETRY_KEY is not valid: give at least 32 bytes as base64 or hex (openssl rand -base64 32)');
  return Object.freeze({
    databaseUrl,
    dialect: dialectOf(databaseUrl),
    tenant: env.MMS_TENANT?.trim() || undefined,
    migrationDelayMs: duration('MMS_MIGRATION_DELAY', env.MMS_MIGRATION_DELAY ?? '5s'),
    historyDays: Number(days),
    serviceAddress,
    demoOnFirstStart: parseBool('MMS_DEMO', env.MMS_DEMO ?? 'true'),
    logLevel: logLevel as Config['logLevel'],
    leaseMs: duration('MMS_LEASE', env.MMS_LEASE ?? '60s'),
    pollMs: duration('MMS_POLL_INTERVAL', env.MMS_POLL_INTERVAL ?? '1s'),
    databaseListenUrl: listenUrl(env.MMS_DATABASE_LISTEN_URL, databaseUrl),
    retryAttempts: positiveInt('MMS_RETRY_ATTEMPTS', env.MMS_RETRY_ATTEMPTS ?? '9'),
    retryBaseMs: duration('MMS_RETRY_BASE', env.MMS_RETRY_BASE ?? '340s'),
    batchSize: positiveInt('MMS_BATCH_SIZE', env.MMS_BATCH_SIZE ?? '50'),
    secretKey,
    telemetryKey,
    telemetryThreads: telemetryThreads(env.MMS_TELEMETRY_THREADS),
    smtp: env.MMS_SMTP_URL?.trim() ? parseSmtpUrl(env.MMS_SMTP_URL.trim()) : undefined,
    smtpRate: positiveRate('MMS_SMTP_RATE', env.MMS_SMTP_RATE ?? '10'),
    http: parseHttpAddress(env.MMS_HTTP_ADDRESS ?? '127.0.0.1:8080'),
    server: parseServer(env.MMS_SERVER_URL, env.MMS_TOKEN),
    busyWaitMs: busyWaitMs(env),
    publicUrl: parsePublicUrl(env.MMS_PUBLIC_URL),
    trustProxy: parseBool('MMS_TRUST_PROXY', env.MMS_TRUST_PROXY ?? 'false'),
  });
}

/** MMS_DATABASE_LISTEN_URL: a postgres:// URL, and only beside a PostgreSQL MMS_DATABASE_URL (SQLite has no LISTEN). */
function listenUrl(value: string | undefined, databaseUrl: string): string | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (!/^postgres(ql)?:\/\//i.test(v)) fail('MMS_DATABASE_LISTEN_URL', redact(v), 'give a direct connection to the database: postgres://user@db-host:5432/db');
  if (dialectOf(databaseUrl) !== 'postgres') fail('MMS_DATABASE_LISTEN_URL', redact(v), 'it is for PostgreSQL only (MMS_DATABASE_URL is SQLite, whose worker needs no LISTEN connection): unset it');
  return v;
}

function positiveRate(name: 'MMS_SMTP_RATE', value: string): number {
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || Number(value) <= 0) fail(name, value, 'give messages per second, a number above 0 (10, or 0.5 for one every 2 s)');
  return inRange(name, value, Number(value));
}

/** MMS_TELEMETRY_THREADS: a whole number in its range; unset, one thread per core beside the main thread's. */
function telemetryThreads(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return Math.max(1, os.availableParallelism() - 1);
  if (!/^\s*\d+\s*$/.test(value)) fail('MMS_TELEMETRY_THREADS', value, `give a whole number of threads, ${rangeText('MMS_TELEMETRY_THREADS')}`);
  return inRange('MMS_TELEMETRY_THREADS', value, Number(value));
}

/** MMS_SERVER_URL + MMS_TOKEN: both or neither; https, or http to a loopback host only (the token must not cross a network in the clear). */
function parseServer(rawUrl: string | undefined, rawToken: string | undefined): Config['server'] {
  const value = rawUrl?.trim();
  const token = rawToken?.trim();
  if (!value) {
    if (token) fail('MMS_SERVER_URL', '', 'MMS_TOKEN is set but MMS_SERVER_URL is not: set the service\'s URL (https://mms.contoso.com), or unset MMS_TOKEN to use the database');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('MMS_SERVER_URL', value, 'give the service\'s URL, e.g. https://mms.contoso.com or http://127.0.0.1:8080');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('MMS_SERVER_URL', value, 'use an https:// URL');
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) fail('MMS_SERVER_URL', value, 'plain http:// would send the token in the clear: use https:// (a TLS proxy in front of mms serve), or http:// to 127.0.0.1 only');
  if (!token) fail('MMS_TOKEN', '', 'MMS_SERVER_URL is set: set MMS_TOKEN to a token from New-MmsApiToken (run on the server)');
  return Object.freeze({ url: url.href.replace(/\/$/, ''), token });
}

/** MMS_PUBLIC_URL: an http(s) URL without query or fragment; kept without a trailing slash. */
function parsePublicUrl(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  let u: URL | undefined;
  try {
    u = new URL(value);
  } catch {
    u = undefined;
  }
  if (!u || !/^https?:$/.test(u.protocol) || u.search || u.hash || u.username) fail('MMS_PUBLIC_URL', value, 'give the address admins open, such as https://mms.contoso.com');
  return value.replace(/\/+$/, '');
}

/** MMS_HTTP_ADDRESS: `host:port`, `[v6]:port`, or `off`. */
export function parseHttpAddress(value: string): Config['http'] {
  const v = value.trim();
  if (v.toLowerCase() === 'off') return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) fail('MMS_HTTP_ADDRESS', value, 'give host:port such as 127.0.0.1:8080 or [::1]:8080 (port 0 picks a free one), or off');
  return Object.freeze({ host: m[1] ?? m[2]!, port });
}

/** Loopback hosts: the only ones plain SMTP or plain http may reach (nothing leaves the machine unencrypted). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Hides a password in a connection URL for messages and logs (database and SMTP URLs alike). */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/**
 * Reads MMS_SMTP_URL: `smtp://` requires STARTTLS, `smtps://` is TLS from the start, and plain text only when the
 * URL says `?tls=none` and the host is a loopback address. User and password (URL-encoded) authenticate.
 */
export function parseSmtpUrl(value: string): SmtpSettings {
  const name = 'MMS_SMTP_URL';
  const shown = redact(value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(name, shown, 'give smtp://host:587, smtps://host:465, or smtp://127.0.0.1:25?tls=none for a local relay');
  }
  const scheme = url.protocol.toLowerCase();
  if (scheme !== 'smtp:' && scheme !== 'smtps:') fail(name, shown, 'use an smtp:// (STARTTLS) or smtps:// (TLS) URL');
  if (!url.hostname) fail(name, shown, 'name the server: smtp://mail.contoso.com:587');
  const params = [...url.searchParams.keys()];
  const unknown = params.find((k) => k !== 'tls');
  if (unknown) fail(name, shown, `"${unknown}" is not a setting; only ?tls=none (plain text to a loopback relay) is`);
  const tlsParam = url.searchParams.get('tls');
  if (tlsParam !== null && tlsParam !== 'none') fail(name, shown, `tls=${tlsParam} is not a choice; leave it out (smtp:// requires STARTTLS, smtps:// is TLS) or use tls=none on a loopback host`);
  let tls: SmtpSettings['tls'] = scheme === 'smtps:' ? 'implicit' : 'starttls';
  if (tlsParam === 'none') {
    if (scheme === 'smtps:') fail(name, shown, 'smtps:// is always TLS; use smtp://…?tls=none for a plain loopback relay');
    if (!isLoopback(url.hostname)) fail(name, shown, `plain SMTP without TLS is allowed only to a loopback host (127.0.0.1, ::1, localhost), not ${url.hostname}; drop ?tls=none to use STARTTLS or use smtps://`);
    tls = 'none';
  }
  const port = url.port ? Number(url.port) : scheme === 'smtps:' ? 465 : 587;
  const auth = url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined;
  return Object.freeze({ display: shown, host: url.hostname.replace(/^\[|\]$/g, ''), port, tls, auth });
}

/**
 * The worker settings a config gives: `mms serve` and `Start-CsExMeetingMigration -Wait` (which runs requests
 * itself when no service does) both take them from here, so the lease, retry and batch settings are the same
 * whoever runs a request.
 */
export function workerSettings(config: Config) {
  return {
    serviceAddress: config.serviceAddress || undefined,
    leaseMs: config.leaseMs,
    pollMs: config.pollMs,
    retry: { maxAttempts: config.retryAttempts, baseMs: config.retryBaseMs },
    historyDays: config.historyDays,
    batchSize: config.batchSize,
  };
}
