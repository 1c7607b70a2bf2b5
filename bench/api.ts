// The REST API scenario (issue 10 §5): requests per second and latency of `GET` one user's migration status and of
// the dashboard summary (-SummaryOnly) with 10,000 requests in the database, against `mms serve` as users run it
// (the bundled dist/, default settings, its request log on) over real sockets from this second process, 8 requests
// in flight. Beside each: the same cmdlet query in this process without HTTP (the floor: what the database alone
// costs). Printed, never asserted. See bench/README.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Tenant } from '../src/domain/directory.js';
import { newTenant, newUser } from '../src/directory/index.js';
import { createApiToken } from '../src/http/api-tokens.js';
import { SERVE_NODE_OPTIONS } from '../src/cli/serve.js';
import { migrationStatusPage, migrationSummary } from '../src/migration/index.js';
import { openDatabase, type Db } from '../src/store/index.js';
import { freshSchema, pgProblem, type PgSchema } from './postgres.js';
import { log, percentile } from './report.js';
import { REPO } from './worker-process.js';

export const API_REQUESTS = 10_000;
const IN_FLIGHT = 8;

export interface ApiRow {
  readonly database: 'sqlite' | 'postgres';
  readonly what: string;
  readonly requests: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly floorP50Ms: number;
}

/** A tenant with `n` users and one migration request each: 70 % Succeeded, 20 % Failed, 10 % Pending a day out. */
export async function seed(db: Db, n: number): Promise<{ token: string; upn: (i: number) => string; tenant: Tenant }> {
  const now = Date.now();
  const ctx = { db, actor: 'bench', now: () => now, migrationDelayMs: 0 };
  const tenant = await newTenant(ctx, { name: 'Contoso', domains: ['contoso.com'] });
  const upn = (i: number) => `user${i}@contoso.com`;
  const first = await newUser(ctx, tenant.id, { userPrincipalName: upn(0), displayName: 'User 0' });
  const template = await db.kysely.selectFrom('users').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
  for (let start = 1; start < n; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(n, start + 500); i++) {
      rows.push({ ...template, id: randomUUID(), upn: upn(i), sip_address: `sip:${upn(i)}`, display_name: `User ${i}`, conference_id: String(1_000_000 + i) });
    }
    await db.kysely.insertInto('users').values(rows).execute();
  }
  const users = await db.kysely.selectFrom('users').select(['id']).where('tenant_id', '=', tenant.id).execute();
  for (let start = 0; start < users.length; start += 500) {
    await db.kysely.insertInto('migration_requests').values(users.slice(start, start + 500).map((u, k) => {
      const i = start + k;
      const state = i % 10 < 7 ? 'Succeeded' : i % 10 < 9 ? 'Failed' : 'Pending';
      return {
        id: randomUUID(), tenant_id: tenant.id, user_id: u.id, state, migration_type: 'AllToTeams', trigger_reasons: '["ManualStart"]',
        create_date: now - i * 1000, modified_date: now - i * 500, not_before: state === 'Pending' ? now + 86_400_000 : now - i * 1000, retry_count: 0,
        total_meeting: 20, succeeded_meeting: state === 'Succeeded' ? 20 : 0, failed_meeting: state === 'Failed' ? 20 : 0, skipped_meeting: 0, invites_update: 0,
        last_message: state === 'Failed' ? 'the calendar server answered 503; retried 9 times' : '', lease_owner: null, lease_expires_at: null,
      };
    })).execute();
  }
  const { token } = await createApiToken(db, { name: 'bench', role: 'ReadOnly', tenant, lifetimeMs: 86_400_000, actor: 'bench', now });
  return { token, upn, tenant };
}

export function startServe(url: string): Promise<{ child: ChildProcess; base: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MMS_') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, { MMS_DATABASE_URL: url, MMS_DEMO: 'false', MMS_HTTP_ADDRESS: '127.0.0.1:0', TZ: 'UTC' });
  const child = spawn(process.execPath, [...SERVE_NODE_OPTIONS, 'bin/mms.js', 'serve'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return untilListening(child);
}

/** Resolves once `child` (an mms serve) logs where its REST API listens; rejects if it exits first. */
export function untilListening(child: ChildProcess): Promise<{ child: ChildProcess; base: string }> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const line = out.split('\n').find((l) => l.includes('"REST API listening'));
      if (line) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume(); // keep draining the request log
        resolve({ child, base: (JSON.parse(line) as { url: string }).url });
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('exit', (code) => reject(new Error(`mms serve exited ${code} before it listened: ${err.trim() || out.slice(-500)}`)));
  });
}

/** `seconds` of requests, IN_FLIGHT at a time; each request's wall time in ms. */
async function load(url: (i: number) => string, token: string, seconds: number): Promise<number[]> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let i = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const res = await fetch(url(i++), { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${res.status} from ${url(i - 1)}`);
      latencies.push(performance.now() - t0);
    }
  }));
  return latencies;
}

async function timeFloor(fn: (i: number) => Promise<unknown>, runs: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn(i);
    ms.push(performance.now() - t0);
  }
  return percentile(ms, 50);
}

async function oneDatabase(database: ApiRow['database'], url: string, seconds: number): Promise<ApiRow[]> {
  log(`api (${database}): seeding ${API_REQUESTS} users with one migration request each`);
  const db = await openDatabase(url);
  const rows: ApiRow[] = [];
  try {
    const { token, upn, tenant: t } = await seed(db, API_REQUESTS);
    const { child, base } = await startServe(url);
    try {
      const cases = [
        { what: 'GET /api/v1/migrations?Identity=<one user>', url: (i: number) => `${base}/api/v1/migrations?Identity=${encodeURIComponent(upn((i * 7919) % API_REQUESTS))}`, floor: (i: number) => migrationStatusPage(db, t, { identity: upn((i * 7919) % API_REQUESTS) }, { first: 10_000, skip: 0 }) },
        { what: 'GET /api/v1/migrations?SummaryOnly=true (dashboard summary)', url: () => `${base}/api/v1/migrations?SummaryOnly=true`, floor: () => migrationSummary(db, t, {}) },
      ];
      for (const c of cases) {
        await load(c.url, token, 1); // warm-up
        const lat = await load(c.url, token, seconds);
        const floorP50Ms = await timeFloor(c.floor, 50);
        const row: ApiRow = { database, what: c.what, requests: lat.length, perSecond: lat.length / seconds, p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99), floorP50Ms };
        log(`  ${c.what}: ${row.perSecond.toFixed(0)} requests/s, p50 ${row.p50Ms.toFixed(1)} ms, p99 ${row.p99Ms.toFixed(1)} ms (the query alone in-process: p50 ${floorP50Ms.toFixed(1)} ms)`);
        rows.push(row);
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  } finally {
    await db.close();
  }
  return rows;
}

/** SQLite always; PostgreSQL when reachable (skipped with a line otherwise). */
export async function apiScenario(workDir: string, quick: boolean, keep: boolean): Promise<ApiRow[]> {
  const seconds = quick ? 3 : 10;
  fs.mkdirSync(workDir, { recursive: true });
  const file = path.join(workDir, 'api.sqlite');
  for (const s of ['', '-wal', '-shm', '.secret-key']) fs.rmSync(file + s, { force: true });
  const rows = await oneDatabase('sqlite', file, seconds);
  if (!keep) for (const s of ['', '-wal', '-shm', '.secret-key']) fs.rmSync(file + s, { force: true });
  const problem = await pgProblem();
  if (problem) {
    log(`api (postgres): skipped: ${problem}`);
    return rows;
  }
  const schema: PgSchema = await freshSchema();
  try {
    rows.push(...(await oneDatabase('postgres', schema.url, seconds)));
  } finally {
    if (!keep) await schema.drop();
  }
  return rows;
}

export function formatApiTable(rows: readonly ApiRow[]): string {
  const head = ['database', 'request', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'query alone p50 ms'];
  const body = rows.map((r) => [r.database, r.what, String(r.requests), r.perSecond.toFixed(0), r.p50Ms.toFixed(1), r.p99Ms.toFixed(1), r.floorP50Ms.toFixed(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
