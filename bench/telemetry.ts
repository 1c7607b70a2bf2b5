// The client telemetry ingestion scenario (issue 11 §7): events ingested per second by mms serve's REST app over HTTP,
// in batches of 100 from this second process over CONNECTIONS keep-alive connections, per kind of event, on SQLite and
// PostgreSQL; beside each the floor: the very rows the service stored, read back and inserted with plain prepared
// statements (the same columns and bytes, 100 rows a transaction) into a fresh database. Printed, never asserted.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { newTenant } from '../src/directory/index.js';
import { openDatabase, type Db } from '../src/store/index.js';
import { newIngestionKey, Pseudonyms, setUserTelemetry } from '../src/telemetry/index.js';
import { untilListening } from './api.js';
import { freshSchema, pgProblem, type PgSchema } from './postgres.js';
import { log } from './report.js';
import { BATCH, BENCH_KINDS, benchUser, bodies, OPTED_IN_USERS, type BenchKind } from './telemetry-events.js';
import { REPO } from './worker-process.js';

export const TARGET_EVENTS_PER_SECOND = 20_000;
export const TARGET_RATIO = 0.5;
const CONNECTIONS = 8;
// The service and the bench's opt-ins must share the key.
const TELEMETRY_KEY = randomBytes(32).toString('hex');
const TABLES: Record<BenchKind, 'telemetry_census' | 'telemetry_usage' | 'telemetry_errors'> = { census: 'telemetry_census', usage: 'telemetry_usage', error: 'telemetry_errors' };

export interface TelemetryRow {
  readonly database: 'sqlite' | 'postgres';
  readonly kind: BenchKind | typeof MIX_LABEL;
  readonly events: number;
  readonly seconds: number;
  readonly floorEvents: number;
  readonly floorSeconds: number;
  /** CPU seconds the server process used while measured (user + system, all its threads): what the load average cannot skew. */
  readonly serverCpuSeconds: number;
  /** Of those, the main thread's: the one thread every batch passes through (HTTP, opt-ins, allowances, the insert). */
  readonly mainCpuSeconds: number;
  /** The server's ingestion threads (MMS_TELEMETRY_THREADS: the bench's own value, else the default). */
  readonly threads: number;
}

/** The ingestion threads the server runs with: MMS_TELEMETRY_THREADS as given to the bench, else the service's default. */
const THREADS = loadConfig({ MMS_TELEMETRY_THREADS: process.env.MMS_TELEMETRY_THREADS }).telemetryThreads;

/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (clock ticks of 1/100 s): the whole
 * process, every thread of it (the ingestion threads too), as process.cpuUsage() counts.
 */
function cpuSeconds(pid: number, mainThreadOnly = false): number {
  try {
    // The main thread's own figures are its task's, whose id is the process's.
    const fields = fs.readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

const rate = (events: number, s: number) => events / s;

/**
 * A realistic mix by events: census and usage come from every client all the time, error reports only from users who
 * opted in and only when something failed. The mix row is computed from the measured kinds (the time N events of the
 * mix take at each kind's measured rate), for the engine, the floor and the server's CPU alike.
 */
const MIX: Record<BenchKind, number> = { census: 0.45, usage: 0.45, error: 0.1 };
export const MIX_LABEL = 'mix 45/45/10';

/**
 * The REST app as `mms serve` runs it (bench/telemetry-serve-main.ts: request log on, default settings but the
 * per-address and per-key allowances), the bench's telemetry key; a CPU profile if asked.
 */
function startServe(url: string, profileDir: string | undefined): Promise<{ child: ChildProcess; base: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MMS_') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, { MMS_DATABASE_URL: url, MMS_DEMO: 'false', MMS_HTTP_ADDRESS: '127.0.0.1:0', TZ: 'UTC', MMS_TELEMETRY_KEY: TELEMETRY_KEY, MMS_TELEMETRY_THREADS: String(THREADS) });
  const args = ['--import', 'tsx'];
  if (profileDir) {
    fs.mkdirSync(profileDir, { recursive: true });
    args.push('--cpu-prof', '--cpu-prof-dir', profileDir);
  }
  const child = spawn(process.execPath, [...args, 'bench/telemetry-serve-main.ts'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return untilListening(child);
}

async function stopServe(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Posts bodies round-robin for `seconds` over CONNECTIONS sockets; every event must be accepted. Events sent. */
async function load(base: string, key: string, kind: BenchKind, batches: readonly Buffer[], seconds: number): Promise<{ events: number; seconds: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const u = new URL(`/telemetry/v1/${kind}`, base);
  const post = (body: Buffer) => new Promise<void>((resolve, reject) => {
    const req = http.request({ agent, host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: `MmsTelemetry ${key}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) return reject(new Error(`${res.statusCode} from ${u.pathname}: ${text.slice(0, 300)}`));
        const accepted = (JSON.parse(text) as { Accepted: number; Results: Array<{ Message?: string }> });
        if (accepted.Accepted !== BATCH) return reject(new Error(`${u.pathname}: ${accepted.Accepted} of ${BATCH} accepted: ${JSON.stringify(accepted.Results.find((r) => r.Message))}`));
        resolve();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
  let next = 0;
  let sent = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  try {
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        await post(batches[next++ % batches.length]!);
        sent += BATCH;
      }
    }));
  } finally {
    agent.destroy();
  }
  return { events: sent, seconds: (performance.now() - t0) / 1000 };
}

/** A tenant with an ingestion key and OPTED_IN_USERS users who opted in to error reporting. */
async function setUp(db: Db): Promise<string> {
  const now = Date.now();
  const ctx = { db, actor: 'bench', now: () => now, migrationDelayMs: 0 };
  const tenant = await newTenant(ctx, { name: 'Contoso', domains: ['contoso.com'] });
  const { key } = await newIngestionKey(ctx, tenant);
  const pseudonyms = new Pseudonyms({ telemetryKey: Buffer.from(TELEMETRY_KEY, 'hex'), dialect: db.dialect });
  for (let i = 0; i < OPTED_IN_USERS; i++) await setUserTelemetry(ctx, pseudonyms, tenant, benchUser(i), true);
  return key;
}

/** The rows the service stored for `kind`, without their ids: what the floor writes again. */
async function storedRows(db: Db, kind: BenchKind): Promise<Array<Record<string, unknown>>> {
  const rows = await db.kysely.selectFrom(TABLES[kind]).selectAll().orderBy('id').execute();
  return rows.map(({ id: _id, ...rest }) => rest);
}

/** SQLite floor: one prepared INSERT per row, BATCH rows a transaction, the service's pragmas. */
function sqliteFloor(file: string, table: string, rows: ReadonlyArray<Record<string, unknown>>): number {
  const h = new SQLite(file);
  try {
    for (const p of ['journal_mode = WAL', 'synchronous = NORMAL', 'foreign_keys = ON', 'cache_size = -32768', 'secure_delete = ON']) h.pragma(p);
    const cols = Object.keys(rows[0]!);
    const insert = h.prepare(`insert into ${table} (${cols.join(', ')}) values (${cols.map(() => '?').join(', ')})`);
    const begin = h.prepare('begin immediate');
    const commit = h.prepare('commit');
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += BATCH) {
      begin.run();
      for (const r of rows.slice(i, i + BATCH)) insert.run(cols.map((c) => r[c]));
      commit.run();
    }
    return (performance.now() - t0) / 1000;
  } finally {
    h.close();
  }
}

/** PostgreSQL floor: one prepared unnest() INSERT per batch of BATCH rows, CONNECTIONS writers at once. */
async function postgresFloor(url: string, table: string, rows: ReadonlyArray<Record<string, unknown>>): Promise<number> {
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  }));
  try {
    const types = (await clients[0]!.query<{ column_name: string; data_type: string }>(`select column_name, data_type from information_schema.columns where table_name = $1 and table_schema = current_schema()`, [table])).rows;
    const cols = Object.keys(rows[0]!);
    const typeOf = new Map(types.map((t) => [t.column_name, t.data_type]));
    const text = `insert into ${table} (${cols.join(', ')}) select * from unnest(${cols.map((c, i) => `$${i + 1}::${typeOf.get(c)}[]`).join(', ')})`;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(clients.map(async (c) => {
      for (let i = (next++) * BATCH; i < rows.length; i = (next++) * BATCH) {
        const batch = rows.slice(i, i + BATCH);
        await c.query('begin');
        await c.query({ name: 'floor-insert', text, values: cols.map((col) => batch.map((r) => r[col])) });
        await c.query('commit');
      }
    }));
    return (performance.now() - t0) / 1000;
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

async function oneDatabase(database: TelemetryRow['database'], url: string, floorUrl: string, seconds: number, profileDir: string | undefined): Promise<TelemetryRow[]> {
  log(`telemetry (${database}): a tenant, its ingestion key, ${OPTED_IN_USERS} users opted in to error reporting; the server with ${THREADS} ingestion thread(s)`);
  const db = await openDatabase(url);
  const rows: TelemetryRow[] = [];
  try {
    const key = await setUp(db);
    const made = Object.fromEntries(BENCH_KINDS.map((k) => [k, bodies(k)])) as Record<BenchKind, Buffer[]>;
    const { child, base } = await startServe(url, profileDir);
    const measured: Array<{ kind: BenchKind; events: number; seconds: number; cpu: number; main: number }> = [];
    try {
      for (const kind of BENCH_KINDS) {
        await load(base, key, kind, made[kind], 1); // warm-up
        const cpu0 = cpuSeconds(child.pid!);
        const main0 = cpuSeconds(child.pid!, true);
        const r = await load(base, key, kind, made[kind], seconds);
        const cpu = cpuSeconds(child.pid!) - cpu0;
        const main = cpuSeconds(child.pid!, true) - main0;
        log(`  ${kind}: ${r.events} events in ${r.seconds.toFixed(1)} s: ${rate(r.events, r.seconds).toFixed(0)} events/s; server CPU ${cpu.toFixed(1)} s: ${rate(r.events, cpu).toFixed(0)} events per CPU second; main thread ${main.toFixed(1)} s: ${rate(r.events, main).toFixed(0)} events per its CPU second`);
        measured.push({ kind, ...r, cpu, main });
      }
    } finally {
      await stopServe(child);
    }
    // The floor: on a fresh database, the rows the service stored (warm-up included: same rows, same bytes).
    // The tenant row first (the telemetry rows reference it), untimed.
    const floorDb = await openDatabase(floorUrl);
    await floorDb.kysely.insertInto('tenants').values(await db.kysely.selectFrom('tenants').selectAll().execute()).execute();
    await floorDb.close();
    for (const m of measured) {
      const stored = await storedRows(db, m.kind);
      const s = database === 'sqlite' ? sqliteFloor(floorUrl, TABLES[m.kind], stored) : await postgresFloor(floorUrl, TABLES[m.kind], stored);
      log(`  ${m.kind} floor: ${stored.length} rows in ${s.toFixed(2)} s: ${rate(stored.length, s).toFixed(0)} rows/s`);
      rows.push({ database, kind: m.kind, events: m.events, seconds: m.seconds, floorEvents: stored.length, floorSeconds: s, serverCpuSeconds: m.cpu, mainCpuSeconds: m.main, threads: THREADS });
    }
  } finally {
    await db.close();
  }
  const n = rows.reduce((a, r) => a + r.events, 0);
  const mixed = (f: (r: TelemetryRow) => number) => rows.reduce((a, r) => a + MIX[r.kind as BenchKind] * n * f(r), 0);
  rows.push({ database, kind: MIX_LABEL, events: n, seconds: mixed((r) => r.seconds / r.events), floorEvents: n, floorSeconds: mixed((r) => r.floorSeconds / r.floorEvents), serverCpuSeconds: mixed((r) => r.serverCpuSeconds / r.events), mainCpuSeconds: mixed((r) => r.mainCpuSeconds / r.events), threads: THREADS });
  return rows;
}

/** SQLite always; PostgreSQL when reachable (skipped with a line otherwise). */
export async function telemetryScenario(workDir: string, quick: boolean, keep: boolean, profileDir: (name: string) => string | undefined): Promise<TelemetryRow[]> {
  const seconds = quick ? 3 : 10;
  fs.mkdirSync(workDir, { recursive: true });
  const files = ['telemetry.sqlite', 'telemetry-floor.sqlite'].map((f) => path.join(workDir, f));
  const clean = () => { for (const f of files) for (const s of ['', '-wal', '-shm']) fs.rmSync(f + s, { force: true }); };
  clean();
  const rows = await oneDatabase('sqlite', files[0]!, files[1]!, seconds, profileDir('telemetry-sqlite'));
  if (!keep) clean();
  const problem = await pgProblem();
  if (problem) {
    log(`telemetry (postgres): skipped: ${problem}`);
    return rows;
  }
  const schemas: PgSchema[] = [await freshSchema(), await freshSchema()];
  try {
    rows.push(...(await oneDatabase('postgres', schemas[0]!.url, schemas[1]!.url, seconds, profileDir('telemetry-postgres'))));
  } finally {
    if (!keep) for (const s of schemas) await s.drop();
  }
  return rows;
}

const yes = (ok: boolean) => (ok ? 'yes' : 'NO');

/** The table, then per database the target lines, judged on the mix. */
export function formatTelemetryTable(rows: readonly TelemetryRow[]): string {
  const head = ['database', 'kind', 'events', 'seconds', 'events/s', 'floor rows/s', 'engine/floor', 'server CPU s', 'events/CPU s', 'main thread CPU s', 'events/main CPU s'];
  const body = rows.map((r) => [
    r.database, r.kind, String(r.events), r.seconds.toFixed(1), rate(r.events, r.seconds).toFixed(0), rate(r.floorEvents, r.floorSeconds).toFixed(0), (rate(r.events, r.seconds) / rate(r.floorEvents, r.floorSeconds)).toFixed(2),
    r.serverCpuSeconds.toFixed(1), rate(r.events, r.serverCpuSeconds).toFixed(0), r.mainCpuSeconds.toFixed(1), rate(r.events, r.mainCpuSeconds).toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const threads = [...new Set(rows.map((r) => r.threads))].join(', ');
  const lines = [`server: ${threads} ingestion thread(s) beside its main thread (MMS_TELEMETRY_THREADS; 0 = all on the main thread)`, '', line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), ''];
  for (const r of rows.filter((x) => x.kind === MIX_LABEL)) {
    const eps = rate(r.events, r.seconds);
    const ratio = eps / rate(r.floorEvents, r.floorSeconds);
    if (r.database === 'sqlite') lines.push(`SQLite ≥ ${TARGET_EVENTS_PER_SECOND.toLocaleString('en-US')} events/s: ${yes(eps >= TARGET_EVENTS_PER_SECOND)} (${eps.toFixed(0)})`);
    lines.push(`${r.database === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ratio ≥ ${TARGET_RATIO}: ${yes(ratio >= TARGET_RATIO)} (${ratio.toFixed(2)})`);
  }
  return lines.join('\n');
}
