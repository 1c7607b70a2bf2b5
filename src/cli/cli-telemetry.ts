// The `mms` CLI's own telemetry (issue 11 §4), opt-in: nothing is sent unless MMS_TELEMETRY_INGESTION_KEY is set,
// to MMS_TELEMETRY_URL (default: MMS_SERVER_URL, the service a remote mms already talks to). After a cmdlet has
// run and written its output, it reports census (once a day per device: app, version, OS, language, the hashed
// user) and usage (which cmdlet ran), plus — only when the service says this user opted in — an error report naming
// the cmdlet that failed. It waits at most SEND_WAIT_MS; what is not sent by then (a service that is down or slow)
// is spooled to a file in MMS_TELEMETRY_DIR and sent by the next run; after a service that did not answer in time,
// runs spool without trying the network for BACKOFF_AFTER_TIMEOUT_MS (the file backoff-until), so a hung service
// does not cost every command the wait. The spool may hold an opted-in user's id in clear (error reports): its
// folder is 0700, its files 0600. Nothing here can fail or slow the cmdlet beyond that wait: every failure is
// silent except for a line on stderr with MMS_DEBUG=telemetry — a plain http:// URL to another host included (the
// ingestion key would travel in clear), which leaves telemetry off.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { isLoopback } from '../config.js';
import { TelemetryClient, type FetchLike, type PendingEvent } from '../telemetry/sdk/index.js';
import type { Cmdlet } from './cmdlet.js';
import { mmsVersion } from './help.js';
import { actorOf } from './run-cli.js';

export const CLI_APP_NAME = 'mms-cli';
/** The longest a run waits at its end for telemetry to go out. */
const SEND_WAIT_MS = 1_500;
/** Spooled events kept across runs at most (the SDK's queue bound; the oldest beyond it are dropped). */
const MAX_SPOOLED = 1_000;
/** After a service that did not answer within SEND_WAIT_MS: how long runs spool without trying. */
const BACKOFF_AFTER_TIMEOUT_MS = 10 * 60_000;

interface CliTelemetrySettings {
  readonly url: string;
  readonly key: string;
  readonly dir: string;
}

/** The CLI's telemetry settings; undefined when it is not turned on (the default); a string: why it stays off. */
export function cliTelemetrySettings(env: NodeJS.ProcessEnv): CliTelemetrySettings | string | undefined {
  const key = env.MMS_TELEMETRY_INGESTION_KEY?.trim();
  const url = env.MMS_TELEMETRY_URL?.trim() || env.MMS_SERVER_URL?.trim();
  if (!key || !url) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    return `telemetry is off: ${url} is not a URL`;
  }
  if (!/^https?:$/.test(parsed.protocol)) return `telemetry is off: ${url} is not an http(s) URL`;
  // The rule of MMS_SERVER_URL (src/config.ts): the key goes in clear over plain http only to this machine.
  if (parsed.protocol === 'http:' && !isLoopback(parsed.hostname)) return `telemetry is off: plain http:// to ${parsed.hostname} would send the ingestion key in the clear: use https://, or http:// to 127.0.0.1 only`;
  return { url, key, dir: env.MMS_TELEMETRY_DIR?.trim() || path.join(os.homedir(), '.mms', 'telemetry') };
}

/** The cmdlet `argv` ran, as runCli finds it (a leading --json skipped); undefined for help, serve, --version or a typo. */
function cmdletOf(argv: readonly string[], cmdlets: readonly Cmdlet[]): Cmdlet | undefined {
  const name = /^--?json$/i.test(argv[0] ?? '') ? argv[1] : argv[0];
  return name === undefined ? undefined : cmdlets.find((c) => c.name.toLowerCase() === name.toLowerCase());
}

function language(): string {
  const locale = Intl.DateTimeFormat().resolvedOptions().locale;
  return /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(locale) ? locale : 'und';
}

/** Claims every spool file (a rename, so two runs never send the same file) and returns their events, and how many were dropped. */
async function takeSpool(dir: string): Promise<{ events: PendingEvent[]; dropped: number }> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => /^spool-.*\.json$/.test(n));
  const out: PendingEvent[] = [];
  for (const name of names) {
    const claimed = path.join(dir, `${name}.${randomUUID()}.taken`);
    try {
      await fs.rename(path.join(dir, name), claimed);
    } catch {
      continue; // another run took it
    }
    try {
      const events = JSON.parse(await fs.readFile(claimed, 'utf8')) as unknown;
      if (Array.isArray(events)) out.push(...(events as PendingEvent[]));
    } catch { /* a damaged file is dropped: it cannot be sent */ }
    await fs.rm(claimed, { force: true });
  }
  return { events: out.slice(-MAX_SPOOLED), dropped: Math.max(0, out.length - MAX_SPOOLED) };
}

/** Whether an earlier run's timeout still holds this one off the network. */
async function backingOff(dir: string, now: number): Promise<boolean> {
  const until = Number((await fs.readFile(path.join(dir, 'backoff-until'), 'utf8').catch(() => '')).trim());
  return Number.isFinite(until) && until > now;
}

async function writeBackoff(dir: string, until: number): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(dir, 'backoff-until'), `${until}\n`, { mode: 0o600 });
}

const offline: FetchLike = () => Promise.reject(new Error('the service did not answer in time on an earlier run; not tried again before the time in backoff-until'));

async function writeSpool(dir: string, events: readonly PendingEvent[]): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${randomUUID()}.tmp`);
  await fs.writeFile(tmp, JSON.stringify(events), { mode: 0o600 });
  await fs.rename(tmp, path.join(dir, `spool-${Date.now()}-${randomUUID()}.json`));
}

/**
 * The SDK's requests over node:http(s), one connection each. Node's own fetch (undici) costs a short command about
 * 90 ms to load and holds the finished process about 200 ms more (its HTTP parser is compiled on first use); this
 * costs a few ms. The answer is read whole (telemetry answers are small).
 */
export const plainFetch: FetchLike = (input, init) => new Promise((resolve, reject) => {
  const url = new URL(input);
  const req = (url.protocol === 'https:' ? https : http).request(url, { method: init.method, headers: init.headers, agent: false, signal: init.signal }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', reject);
    res.on('end', () => {
      const status = res.statusCode ?? 0;
      const text = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => [res.headers[name.toLowerCase()]].flat().filter((v) => v !== undefined).join(', ') || null;
      resolve({ status, ok: status >= 200 && status < 300, headers: { get: header }, text: async () => text });
    });
  });
  req.on('error', reject);
  req.end(init.body);
});

/** Whether today's census is still to be sent (one a day per device), marking it sent. */
async function censusDue(dir: string, now: number): Promise<boolean> {
  const file = path.join(dir, 'census-day');
  const today = new Date(now).toISOString().slice(0, 10);
  if ((await fs.readFile(file, 'utf8').catch(() => '')).trim() === today) return false;
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(file, `${today}\n`, { mode: 0o600 });
  return true;
}

/** Reports one `mms` run (its argv and exit code). Never throws. */
export async function reportCliRun(argv: readonly string[], exitCode: number, env: NodeJS.ProcessEnv, cmdlets: readonly Cmdlet[], stderr: NodeJS.WritableStream): Promise<void> {
  const settings = cliTelemetrySettings(env);
  const cmdlet = cmdletOf(argv, cmdlets);
  const debug = (env.MMS_DEBUG ?? '').split(',').map((s) => s.trim()).includes('telemetry');
  const log = (line: string) => {
    if (debug) stderr.write(`mms: ${line}\n`);
  };
  if (typeof settings === 'string' && cmdlet) log(settings);
  if (typeof settings !== 'object' || !cmdlet) return;
  try {
    const spool = await takeSpool(settings.dir);
    const client = new TelemetryClient({
      serverUrl: settings.url, ingestionKey: settings.key, appName: CLI_APP_NAME, appVersion: mmsVersion(),
      deviceIdStore: path.join(settings.dir, 'device-id'), userId: actorOf(env), pending: spool.events,
      maxQueue: MAX_SPOOLED, flushIntervalMs: 0, requestTimeoutMs: SEND_WAIT_MS,
      fetch: (await backingOff(settings.dir, Date.now())) ? offline : plainFetch, onError: log,
    });
    if (await censusDue(settings.dir, Date.now())) {
      await client.census({ DeviceModel: os.machine() || os.arch(), OsName: os.type(), OsVersion: os.release().slice(0, 32), UserLanguage: language() });
    }
    await client.usage({ FeaturesUsed: { [cmdlet.name]: 1 } });
    // Exit code 1 is a failure inside MMS (2 is the caller's usage error): reported for opted-in users only, by name
    // alone — the error text may carry identities.
    if (exitCode === 1) await client.error({ ErrorCode: 'CmdletFailed', Message: cmdlet.name });
    const left = await client.close(SEND_WAIT_MS);
    const s = client.stats();
    log(`telemetry: ${s.accepted} accepted, ${Object.values(s.refused).reduce((a, b) => a + b, 0)} refused, ${s.suppressed} not sent (the service's config), ${s.dropped + spool.dropped} dropped, ${left.length} kept for the next run`);
    if (left.length > 0) await writeSpool(settings.dir, left);
    // A request cut off by the wait (its own timeout, or close()'s): the service hangs; later runs spool at once.
    if (/timeout|ran out of time|aborted/i.test(s.lastError ?? '')) await writeBackoff(settings.dir, Date.now() + BACKOFF_AFTER_TIMEOUT_MS);
  } catch (err) {
    log(`telemetry failed: ${(err as Error).message}`);
  }
}
