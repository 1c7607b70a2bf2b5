// `npm run bench -- --growth` (issue 13 §3): does the time per meeting stay flat as data grows? The tenant-wide
// change at 10,000, 30,000 and 100,000 meetings (the bench world with 200, 600 and 2,000 organizers x 50 meetings:
// the 100,000 one is the full bench's own cached world) and one user's change at 10, 100 and 1,000 meetings (the
// 10,000-meeting world with a per-user organizer of that many meetings), on SQLite and, when it answers, PostgreSQL;
// the same scenarios as the main bench (bench/scenarios.ts), run in this process (MigrationWorker.drain). Then the
// query plans of the engine's lookups at 100,000 meetings (test/helpers/query-plans.ts, as the test checks them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchOptions } from './options.js';
import pg from 'pg';
import { cloneSchema, copyFromSqlite, freshSchema, pgProblem, PG_URL, type PgSchema } from './postgres.js';
import { openDatabase } from '../src/store/index.js';
import { log, percentile, seconds, writeJson } from './report.js';
import { openTarget, perUser, tenantWide, type Target } from './scenarios.js';
import { REPO } from './worker-process.js';
import { copyWorld, type World, type WorldSize } from './world.js';
import { worldFor } from './world-cache.js';
import { checkLookups, formatChecks, type LookupCheck } from '../test/helpers/query-plans.js';
import { findUser } from '../src/store/directory-repo.js';

/** Above this many percent per doubling of the data the time per meeting is not flat (see README: a scan grows ~100 %). */
export const FLAT_PCT_PER_DOUBLING = 10;

const MEETINGS_PER_ORGANIZER = 50;
const POOL = 200;
const TENANT_SIZES = [10_000, 30_000, 100_000];
const USER_SIZES = [10, 100, 1_000];
/** --quick: a tenth of the tenant sizes (a check of the bench itself, not of growth). */
const QUICK_TENANT_SIZES = [1_000, 3_000, 10_000];

type Database = 'sqlite' | 'postgres';

interface TenantPoint {
  readonly database: Database;
  readonly size: number;
  readonly meetings: number;
  /** Seconds of work: from the trigger's end to the last request's end (or the limit). */
  readonly workSeconds: number;
  readonly triggerSeconds: number;
  readonly complete: boolean;
  readonly msPerMeeting: number;
  /** This process's CPU time (user + system) over the run, trigger included, per meeting done (see README). */
  readonly cpuMsPerMeeting: number;
  /** 1-minute load average at the end of the run: the machine is shared, and the figures move with it. */
  readonly load: number;
}

interface UserPoint {
  readonly database: Database;
  readonly size: number;
  readonly p50Ms: number;
  readonly latenciesMs: readonly number[];
  readonly msPerMeeting: number;
  /** This process's CPU time per run (warm-up included: the mean over every run). */
  readonly cpuMsPerRun: number;
  readonly load: number;
}

/** Least squares of y against log2(x): the change per doubling of x, as a percent of the mean of y. */
export function slopePerDoubling(xs: readonly number[], ys: readonly number[]): number {
  const lx = xs.map((x) => Math.log2(x));
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let cov = 0;
  let varx = 0;
  lx.forEach((x, i) => {
    cov += (x - mx) * ((ys[i] as number) - my);
    varx += (x - mx) ** 2;
  });
  return (100 * (cov / varx)) / my;
}

const sizeOf = (meetings: number, soloMeetings = 100): WorldSize => ({
  organizers: meetings / MEETINGS_PER_ORGANIZER, meetingsPerOrganizer: MEETINGS_PER_ORGANIZER, pool: POOL, soloMeetings,
});

const fmt = (n: number) => n.toLocaleString('en-US');
const pct = (p: number) => `${p >= 0 ? '+' : ''}${p.toFixed(1)} %`;

function removeSqlite(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
}

/** Where each world lives: the tenant-wide ones beside the main bench's (the 100,000 one is its full world); the
 * per-user ones with another per-user size in folders of their own (the cache keeps one world per organizer count). */
async function worlds(opts: BenchOptions, tenantSizes: readonly number[]) {
  const tenant: World[] = [];
  for (const n of tenantSizes) tenant.push(await worldFor(opts.workDir, sizeOf(n), opts.freshWorld));
  const base = tenantSizes[0] as number;
  const user: World[] = [];
  for (const n of USER_SIZES) {
    user.push(n === 100 ? tenant[0] as World : await worldFor(path.join(opts.workDir, `growth-solo-${n}`), sizeOf(base, n), opts.freshWorld));
  }
  return { tenant, user };
}

async function pgAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * The world in PostgreSQL, copied from its SQLite file once and kept as a schema named after the file (its sizes
 * and sources hash) for later runs to clone on the server: copying 500,000 calendar objects over takes minutes on
 * this machine, cloning a fraction of that. Cached schemas of the same size but other sources are dropped.
 */
export async function pgWorld(world: World): Promise<PgSchema> {
  const base = path.basename(world.file, '.sqlite').toLowerCase().replace(/[^a-z0-9]/g, '_');
  const schema = `growth_${base}`;
  const sep = PG_URL.includes('?') ? '&' : '?';
  const cached: PgSchema = { schema, url: `${PG_URL}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`, drop: async () => undefined };
  const ready = await pgAdmin(async (c) => (await c.query('select 1 from information_schema.tables where table_schema = $1 and table_name = $2', [schema, 'growth_ready'])).rowCount);
  if (ready) return cached;
  const sizeTag = base.replace(/_[0-9a-f]{16}$/, '_');
  await pgAdmin(async (c) => {
    const stale = await c.query<{ nspname: string }>('select nspname from pg_namespace where nspname like $1', [`growth_${sizeTag}%`]);
    for (const r of stale.rows) await c.query(`drop schema ${r.nspname} cascade`);
    await c.query(`create schema ${schema}`);
  });
  const t0 = performance.now();
  await (await openDatabase(cached.url, { poolSize: 1 })).close();
  await copyFromSqlite(world.file, cached);
  await pgAdmin((c) => c.query(`create table ${schema}.growth_ready (at bigint)`));
  log(`  postgres: ${fmt(world.calendarRows)} calendar objects copied into ${schema} (kept for later runs) in ${seconds((performance.now() - t0) / 1000)}`);
  return cached;
}

/** A database to run on: a copy of the world's SQLite file, or a fresh PostgreSQL schema cloned from the world's. */
async function place(db: Database, world: World, opts: BenchOptions, name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (db === 'sqlite') {
    const file = copyWorld(world, path.join(opts.workDir, `growth-${name}.sqlite`));
    return { url: file, drop: async () => { if (!opts.keep) removeSqlite(file); } };
  }
  const from = await pgWorld(world);
  const t0 = performance.now();
  const schema: PgSchema = await freshSchema();
  await cloneSchema(from, schema);
  log(`  postgres ${schema.schema}: cloned from ${from.schema} in ${seconds((performance.now() - t0) / 1000)}`);
  return { url: schema.url, drop: async () => { if (!opts.keep) await schema.drop().catch(() => undefined); } };
}

/** The plan checks at the largest size, on the database the tenant-wide run left (history, Pending requests and all). */
async function planChecks(t: Target, world: World): Promise<LookupCheck[]> {
  const upn = `org00000@${world.soloUpn.split('@')[1]}`;
  const user = await findUser(t.db.kysely, t.tenant.id, upn);
  if (!user) throw new Error(`bench growth: no user ${upn}`);
  const request = await t.db.kysely.selectFrom('migration_requests').select('id').where('user_id', '=', user.id).orderBy('create_date', 'desc').executeTakeFirst();
  if (!request) throw new Error(`bench growth: ${upn} has no migration request to read the ledger of`);
  return checkLookups(t.db, { tenant: t.tenant, organizerId: user.id, organizerUpn: upn, correlationId: request.id }, Date.now());
}

async function runDatabase(db: Database, w: Awaited<ReturnType<typeof worlds>>, opts: BenchOptions, maxRuns: number, warmup: number) {
  const tenantPoints: TenantPoint[] = [];
  const userPoints: UserPoint[] = [];
  let plans: LookupCheck[] = [];
  for (const [i, world] of w.tenant.entries()) {
    const size = world.tenantWideMeetings;
    log(`${db}: tenant-wide at ${fmt(size)} meetings${opts.maxSeconds ? ` (stopped after ${opts.maxSeconds} s)` : ''}`);
    const where = await place(db, world, opts, `tenant-${size}`);
    const t = await openTarget(where.url, world);
    try {
      const cpu0 = process.cpuUsage();
      const r = await tenantWide(t, world, { kind: 'drain' }, opts.maxSeconds);
      const cpu = process.cpuUsage(cpu0);
      // The trigger (one transaction queuing every organizer) is per user, not per meeting, and a partial run
      // would count all of it against part of the meetings: the rate is over the work after it.
      const workSeconds = r.seconds - r.triggerSeconds;
      const point: TenantPoint = { database: db, size, meetings: r.meetings, workSeconds, triggerSeconds: r.triggerSeconds, complete: r.complete, msPerMeeting: (1000 * workSeconds) / r.meetings, cpuMsPerMeeting: (cpu.user + cpu.system) / 1000 / r.meetings, load: os.loadavg()[0] as number };
      tenantPoints.push(point);
      log(`  ${fmt(r.meetings)} meetings in ${seconds(workSeconds)} after the trigger (${seconds(r.triggerSeconds)}): ${point.msPerMeeting.toFixed(2)} ms/meeting${r.complete ? '' : ' (partial)'}`);
      if (i === w.tenant.length - 1) {
        log(`${db}: query plans at ${fmt(size)} meetings`);
        plans = await planChecks(t, world);
      }
    } finally {
      await t.db.close();
      await where.drop();
    }
  }
  for (const world of w.user) {
    const n = world.size.soloMeetings;
    // 1,000 meetings take 15-45 s a run on this machine: 3 runs (the median of 3) keep --growth near 15 minutes.
    const runs = n >= 1_000 ? Math.min(maxRuns, 3) : maxRuns;
    log(`${db}: per-user at ${fmt(n)} meetings (${warmup} warm-up + ${runs} runs)`);
    const where = await place(db, world, opts, `user-${n}`);
    const t = await openTarget(where.url, world);
    try {
      const cpu0 = process.cpuUsage();
      const r = await perUser(t, world, { kind: 'drain' }, runs, warmup);
      const cpu = process.cpuUsage(cpu0);
      const p50 = percentile(r.latenciesMs, 50);
      userPoints.push({ database: db, size: n, p50Ms: p50, latenciesMs: r.latenciesMs, msPerMeeting: p50 / n, cpuMsPerRun: (cpu.user + cpu.system) / 1000 / (runs + warmup), load: os.loadavg()[0] as number });
      log(`  p50 ${p50.toFixed(0)} ms: ${(p50 / n).toFixed(2)} ms/meeting`);
    } finally {
      await t.db.close();
      await where.drop();
    }
  }
  return { tenantPoints, userPoints, plans };
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i < 1 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const flat = (g: number) => `flat (<= +${FLAT_PCT_PER_DOUBLING} %): ${g <= FLAT_PCT_PER_DOUBLING ? 'yes' : 'NO'}`;

/**
 * Per-user: a request has a fixed cost (trigger, claim, finish) that ms/meeting spreads thinner as the user grows,
 * so its slope falls whatever happens; flat is judged on the cost of each further meeting, from 10 to 100 against
 * 100 to 1,000, per doubling between the two.
 */
function further(up: readonly UserPoint[], total: (p: UserPoint) => number): { m1: number; m2: number; g: number } {
  const [a, b, c] = up as [UserPoint, UserPoint, UserPoint];
  const m1 = (total(b) - total(a)) / (b.size - a.size);
  const m2 = (total(c) - total(b)) / (c.size - b.size);
  const doublings = Math.log2(Math.sqrt(b.size * c.size) / Math.sqrt(a.size * b.size));
  return { m1, m2, g: 100 * ((m2 / m1) ** (1 / doublings) - 1) };
}

/** The verdict lines of one database: on wall time, and on this process's CPU time (see README for which to trust). */
function verdicts(db: Database, tp: readonly TenantPoint[], up: readonly UserPoint[]): string[] {
  const out: string[] = [];
  if (tp.length > 1) {
    for (const [what, y] of [['wall', (p: TenantPoint) => p.msPerMeeting], ['CPU', (p: TenantPoint) => p.cpuMsPerMeeting]] as const) {
      const s = slopePerDoubling(tp.map((p) => p.size), tp.map(y));
      out.push(`${db} tenant-wide, ${what}: slope ${pct(s)} per doubling of the meetings (least squares of ${what} ms/meeting against log2(meetings)); ${flat(s)}`);
    }
  }
  if (up.length === 3) {
    const s = slopePerDoubling(up.map((p) => p.size), up.map((p) => p.msPerMeeting));
    const w = further(up, (p) => p.p50Ms);
    out.push(`${db} per-user, wall: slope ${pct(s)} per doubling of ms/meeting (falls with the fixed cost per request); each further meeting ${w.m1.toFixed(2)} ms from 10 to 100, ${w.m2.toFixed(2)} ms from 100 to 1,000: ${pct(w.g)} per doubling; ${flat(w.g)}`);
    const c = further(up, (p) => p.cpuMsPerRun);
    out.push(`${db} per-user, CPU: each further meeting ${c.m1.toFixed(2)} ms from 10 to 100, ${c.m2.toFixed(2)} ms from 100 to 1,000: ${pct(c.g)} per doubling; ${flat(c.g)}`);
  }
  return out;
}

/** Runs the growth bench and prints its table; returns the process exit code. */
export async function growthBench(opts: BenchOptions): Promise<number> {
  const started = performance.now();
  const loadAtStart = os.loadavg();
  const tenantSizes = opts.quick ? QUICK_TENANT_SIZES : TENANT_SIZES;
  const runs = Math.min(opts.runs, 5);
  const warmup = 1;
  const pgSkip = opts.only === 'sqlite' ? 'not asked for (--only sqlite)' : await pgProblem();
  if (pgSkip && opts.only === 'postgres') throw new Error(pgSkip);
  log(`mms bench --growth: tenant-wide at ${tenantSizes.map(fmt).join(', ')} meetings, per-user at ${USER_SIZES.map(fmt).join(', ')}; ${opts.only === 'postgres' ? 'postgres' : pgSkip ? 'sqlite (postgres skipped)' : 'sqlite and postgres'}`);
  const w = await worlds(opts, tenantSizes);
  const results: Array<Awaited<ReturnType<typeof runDatabase>> & { database: Database }> = [];
  const failures: string[] = [];
  for (const db of ['sqlite', 'postgres'] as const) {
    if (db === 'sqlite' && opts.only === 'postgres') continue;
    if (db === 'postgres' && pgSkip) {
      log(`postgres: skipped: ${pgSkip}`);
      continue;
    }
    try {
      results.push({ database: db, ...await runDatabase(db, w, opts, runs, warmup) });
    } catch (err) {
      failures.push(`${db}: ${(err as Error).stack ?? String(err)}`);
      log(`${db} FAILED: ${(err as Error).message}`);
    }
  }

  const loadAtEnd = os.loadavg();
  const total = (performance.now() - started) / 1000;
  const lines: string[] = [];
  lines.push(`MMS bench --growth${opts.maxSeconds ? ` (tenant-wide runs stopped after ${opts.maxSeconds} s: rows marked * are partial, their rate over the meetings done)` : ''}: ${os.cpus().length} CPUs, load average ${loadAtStart[0]?.toFixed(1)} at start, ${loadAtEnd[0]?.toFixed(1)} at end; total ${seconds(total)}`);
  lines.push('');
  lines.push(table(['tenant-wide', 'meetings', 'done', 'work s', 'trigger s', 'ms/meeting', 'meetings/s', 'CPU ms/meeting', 'load'], results.flatMap((r) => r.tenantPoints.map((p) => [
    p.database, fmt(p.size), `${fmt(p.meetings)}${p.complete ? '' : '*'}`, p.workSeconds.toFixed(1), p.triggerSeconds.toFixed(2), p.msPerMeeting.toFixed(2), (1000 / p.msPerMeeting).toFixed(0), p.cpuMsPerMeeting.toFixed(2), p.load.toFixed(1),
  ]))));
  lines.push('');
  lines.push(table(['per-user', 'meetings', 'runs', 'p50 ms', 'ms/meeting', 'meetings/s', 'CPU ms/run', 'CPU ms/meeting', 'load'], results.flatMap((r) => r.userPoints.map((p) => [
    p.database, fmt(p.size), String(p.latenciesMs.length), p.p50Ms.toFixed(0), p.msPerMeeting.toFixed(2), (1000 / p.msPerMeeting).toFixed(0), p.cpuMsPerRun.toFixed(0), (p.cpuMsPerRun / p.size).toFixed(2), p.load.toFixed(1),
  ]))));
  lines.push('');
  for (const r of results) lines.push(...verdicts(r.database, r.tenantPoints, r.userPoints));
  lines.push(`(flat: at most +${FLAT_PCT_PER_DOUBLING} % per doubling. A lookup that scans costs in proportion to the data, +100 % per doubling once it dominates; a B-tree gets a level deeper now and then, a few %; this shared machine's run-to-run noise is 5–10 % at a steady load, far more when the load changes: see the load column, the 1-minute load average when each run ended.)`);
  for (const r of results) {
    if (!r.plans.length) continue;
    lines.push('');
    lines.push(`query plans at ${fmt(tenantSizes[tenantSizes.length - 1] as number)} meetings, ${r.database} (EXPLAIN of the statements the code sent; yes = every statement reaches calendar_objects, migration_requests, outbox and migration_meetings through an index, none scans them):`);
    lines.push(...formatChecks(r.plans).map((l) => `  ${l}`));
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
  const out = path.join(REPO, 'bench', 'results', 'growth.json');
  writeJson(out, {
    startedAt: new Date(Date.now() - total * 1000).toISOString(), totalSeconds: total, loadAverage: { start: loadAtStart, end: loadAtEnd },
    options: opts, flatPctPerDoubling: FLAT_PCT_PER_DOUBLING, postgres: pgSkip ? `skipped: ${pgSkip}` : PG_URL,
    worlds: { tenant: w.tenant.map((x) => x.file), user: w.user.map((x) => x.file) },
    results: results.map((r) => ({ ...r, plans: r.plans.map((c) => ({ name: c.name, ok: c.ok, verdicts: c.verdicts })) })),
    lines, failures,
  });
  log(`results: ${path.relative(process.cwd(), out)}`);
  for (const f of failures) process.stderr.write(`\n${f}\n`);
  return failures.length ? 1 : 0;
}
