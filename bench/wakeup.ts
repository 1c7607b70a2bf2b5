// The wake-up scenario (issue 13 §1): with the DEFAULT settings (MMS_MIGRATION_DELAY 5 s, MMS_POLL_INTERVAL 1 s) and
// `mms serve` run as users run it (dist/cli/main.js, nothing else set), how long after a trigger's delay is over the
// worker claims the request, and how long until one user's 100 meetings are updated. Triggers come through the REST
// API (`PATCH /api/v1/dial-in-users/<upn>` with ResetConferenceId: the service's own process, woken in-process on
// SQLite) and from another process (the directory API in this process, as the `mms` command does: NOTIFY on
// PostgreSQL, PRAGMA data_version on SQLite). Printed, never asserted. See bench/README.md.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SERVE_NODE_OPTIONS } from '../src/cli/serve.js';
import { loadConfig } from '../src/config.js';
import { resolveTenant, setDialInUser, type DirectoryContext } from '../src/directory/index.js';
import { createApiToken } from '../src/http/api-tokens.js';
import { openDatabase, type Db } from '../src/store/index.js';
import { ensureBuiltDist } from '../test/helpers/built-dist.js';
import { untilListening } from './api.js';
import { copyFromSqlite, freshSchema, pgProblem } from './postgres.js';
import { log, percentile } from './report.js';
import { REPO } from './worker-process.js';
import { copyWorld, type World, type WorldSize } from './world.js';
import { worldFor } from './world-cache.js';

/** A small world: the per-user organizer with 100 meetings (as in the per-user scenario) and a few others. */
export const WAKEUP_SIZE: WorldSize = { organizers: 4, meetingsPerOrganizer: 4, pool: 40, soloMeetings: 100 };
export const TARGET_CLAIM_P50_MS = 50;
export const TARGET_WORK_P50_MS = 300;

const DEFAULTS = loadConfig({});
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const yes = (ok: boolean) => (ok ? 'yes' : 'NO');

export interface WakeupRow {
  readonly database: 'sqlite' | 'postgres';
  readonly trigger: string;
  readonly runs: number;
  /** The worker's claim stamp (migration_attempts.started_at) minus the request's NotBefore (trigger time + delay). */
  readonly claimMs: number[];
  /** The request's Succeeded stamp minus its trigger time (create_date), delay included. */
  readonly succeededMs: number[];
  readonly meetings: number;
}

/** One run's figures from the stamps the service wrote (one machine clock; the bench's polling is not in them). */
async function stamps(db: Db, correlationId: string): Promise<{ claimMs: number; succeededMs: number; meetings: number }> {
  for (;;) {
    const r = await db.kysely.selectFrom('migration_requests').selectAll().where('id', '=', correlationId).executeTakeFirst();
    if (r && (r.state === 'Succeeded' || r.state === 'Failed')) {
      if (r.state !== 'Succeeded') throw new Error(`bench wakeup: the request ended ${r.state}: ${r.last_message}`);
      const a = await db.kysely.selectFrom('migration_attempts').select(['started_at']).where('correlation_id', '=', correlationId).orderBy('started_at').executeTakeFirstOrThrow();
      return { claimMs: Number(a.started_at) - Number(r.not_before), succeededMs: Number(r.modified_date) - Number(r.create_date), meetings: r.invites_update };
    }
    // Not too often: the figures are the service's own stamps, so polling only adds load (a query on its database).
    await sleep(25);
  }
}

/** `mms serve` from dist/ with nothing but the database, no demo and a free port: the default settings. */
async function startServe(url: string): Promise<{ child: ChildProcess; base: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MMS_') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, { MMS_DATABASE_URL: url, MMS_DEMO: 'false', MMS_HTTP_ADDRESS: '127.0.0.1:0', TZ: 'UTC' });
  const child = spawn(process.execPath, [...SERVE_NODE_OPTIONS, path.join(REPO, 'dist', 'cli', 'main.js'), 'serve'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return untilListening(child);
}

async function oneDatabase(database: WakeupRow['database'], url: string, world: World, runs: { api: number; other: number }): Promise<WakeupRow[]> {
  const db = await openDatabase(url, { poolSize: 2 });
  const rows: WakeupRow[] = [];
  try {
    const tenant = await resolveTenant(db, world.tenantName);
    const { token } = await createApiToken(db, { name: 'bench', role: 'TenantAdmin', tenant, lifetimeMs: 86_400_000, actor: 'bench', now: Date.now() });
    const { child, base } = await startServe(url);
    try {
      const viaApi = async (): Promise<string> => {
        const res = await fetch(`${base}/api/v1/dial-in-users/${encodeURIComponent(world.soloUpn)}`, {
          method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ ResetConferenceId: true }),
        });
        const body = (await res.json()) as { CorrelationId?: string; MeetingMigration?: string };
        if (res.status !== 200 || !body.CorrelationId) throw new Error(`bench wakeup: PATCH answered ${res.status}: ${JSON.stringify(body)}`);
        return body.CorrelationId;
      };
      // Another process: this one, through the directory API with the default delay, as `mms` on the database does.
      const ctx: DirectoryContext = { db, actor: 'bench', now: Date.now, migrationDelayMs: DEFAULTS.migrationDelayMs };
      const viaOther = async (): Promise<string> => {
        const out = await setDialInUser(ctx, tenant.id, world.soloUpn, { resetConferenceId: true });
        if (!out.correlationId) throw new Error(`bench wakeup: the trigger queued nothing: ${out.decision.reason}`);
        return out.correlationId;
      };
      const cases = [
        { trigger: 'REST API (in mms serve)', fire: viaApi, n: runs.api },
        { trigger: `another process (${database === 'postgres' ? 'NOTIFY' : 'data_version'})`, fire: viaOther, n: runs.other },
      ];
      const caseRows = cases.map((c): WakeupRow => ({ database, trigger: c.trigger, runs: c.n, claimMs: [], succeededMs: [], meetings: 0 }));
      // One warm-up run of each, then the runs interleaved in proportion (REST, other, REST, REST, other, …), so that the
      // service's warming code and a busier moment of the machine fall on both triggers alike.
      // Each case's j-th run at (j + 0.5) / n of the way through: spread evenly, whatever the counts.
      const spread = cases.flatMap((c, k) => Array.from({ length: c.n }, (_, j) => ({ k, at: (j + 0.5) / c.n })));
      const order = [...cases.map((_, k) => -1 - k), ...spread.sort((x, y) => x.at - y.at).map((x) => x.k)];
      for (const [i, entry] of order.entries()) {
        const warm = entry < 0;
        const k = warm ? -1 - entry : entry;
        const c = cases[k] as (typeof cases)[number];
        const row = caseRows[k] as WakeupRow;
        // Triggers at spread phases of the poll interval (golden ratio steps): a poll-bound worker would show 0–1 s.
        await sleep(50 + ((i * 0.618) % 1) * DEFAULTS.pollMs);
        const s = await stamps(db, await c.fire());
        if (s.meetings !== world.size.soloMeetings) throw new Error(`bench wakeup: ${s.meetings} meetings updated, expected ${world.size.soloMeetings}`);
        if (warm) continue;
        row.claimMs.push(s.claimMs);
        row.succeededMs.push(s.succeededMs);
        (row as { meetings: number }).meetings = s.meetings;
      }
      for (const row of caseRows) {
        log(`  ${database}, ${row.trigger}: claimed ${fmt(row.claimMs)} ms after the delay; Succeeded ${fmt(row.succeededMs)} ms after the trigger`);
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

const fmt = (v: readonly number[]) => `p50 ${percentile(v, 50).toFixed(0)} / p99 ${percentile(v, 99).toFixed(0)}`;

/** SQLite always; PostgreSQL when reachable (skipped with a line otherwise). */
export async function wakeupScenario(workDir: string, quick: boolean, keep: boolean, fresh: boolean): Promise<WakeupRow[]> {
  ensureBuiltDist(); // users run dist/: measure what they run, built from the sources as they are
  const world = await worldFor(workDir, WAKEUP_SIZE, fresh);
  const runs = quick ? { api: 5, other: 3 } : { api: 12, other: 6 };
  log(`wakeup: mms serve (dist/) with the default MMS_MIGRATION_DELAY ${DEFAULTS.migrationDelayMs} ms and MMS_POLL_INTERVAL ${DEFAULTS.pollMs} ms`);
  const file = copyWorld(world, path.join(workDir, 'wakeup.sqlite'));
  const rows = await oneDatabase('sqlite', file, world, runs);
  if (!keep) for (const s of ['', '-wal', '-shm', '.secret-key']) fs.rmSync(file + s, { force: true });
  const problem = await pgProblem();
  if (problem) {
    log(`wakeup (postgres): skipped: ${problem}`);
    return rows;
  }
  const schema = await freshSchema();
  try {
    await copyFromSqlite(world.file, schema);
    rows.push(...(await oneDatabase('postgres', schema.url, world, runs)));
  } finally {
    if (!keep) await schema.drop();
  }
  return rows;
}

/** The table and the target lines (issue 13 §1): claim ≤ 50 ms p50 after the delay; Succeeded ≤ delay + 300 ms p50. */
export function formatWakeup(rows: readonly WakeupRow[]): string {
  const delay = DEFAULTS.migrationDelayMs;
  const head = ['database', 'trigger', 'runs', 'claim after delay p50 ms', 'p99 ms', 'trigger→Succeeded p50 ms', 'p99 ms', 'targets'];
  const body = rows.map((r) => {
    const claim = percentile(r.claimMs, 50);
    const done = percentile(r.succeededMs, 50);
    return [r.database, r.trigger, String(r.runs), claim.toFixed(0), percentile(r.claimMs, 99).toFixed(0), done.toFixed(0), percentile(r.succeededMs, 99).toFixed(0),
      `claim<=${TARGET_CLAIM_P50_MS}ms: ${yes(claim <= TARGET_CLAIM_P50_MS)}; Succeeded<=${delay}+${TARGET_WORK_P50_MS}ms (${r.meetings} meetings): ${yes(done <= delay + TARGET_WORK_P50_MS)}`];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 6 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
