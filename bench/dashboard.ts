// The dashboard's first page load in Chromium (issue 10 §5): `mms serve` as users run it (dist/, default settings)
// on a database holding 10,000 migration requests (the api scenario's seed: 70 % Succeeded, 20 % Failed, 10 %
// Pending) and a day of migrated-meeting history for the chart; an admin signed in; each run opens / in a fresh
// page (cold cache, the session kept) and reads the browser's own clock: navigation start to the load event, and to
// the chart drawn (dashboard.js marks it). Printed as p50/p95, never asserted. See bench/README.md.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { createAdmin, setupLink } from '../src/http/admin-accounts.js';
import { openDatabase, type Db } from '../src/store/index.js';
import { API_REQUESTS, seed, startServe } from './api.js';
import { freshSchema, pgProblem, type PgSchema } from './postgres.js';
import { log, percentile } from './report.js';

const CHROMIUM = process.env.MMS_CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'bench horse battery staple';
/** Migrated meetings in the day's history the chart draws (spread over the last 24 hours). */
const HISTORY_ROWS = 20_000;

export interface DashboardRow {
  readonly database: 'sqlite' | 'postgres';
  readonly runs: number;
  readonly loadP50Ms: number;
  readonly loadP95Ms: number;
  readonly chartP50Ms: number;
  readonly chartP95Ms: number;
  readonly htmlBytes: number;
}

/** Why the scenario cannot run here, or undefined. */
export function dashboardProblem(): string | undefined {
  return fs.existsSync(CHROMIUM) ? undefined : `Chromium is not installed at ${CHROMIUM}; install the Debian package chromium or set MMS_CHROMIUM`;
}

/** A day of Updated history rows for the seeded Succeeded requests (what the per-minute chart counts). */
async function seedHistory(db: Db, tenantId: string, n: number): Promise<void> {
  const now = Date.now();
  const requests = await db.kysely.selectFrom('migration_requests').select(['id', 'user_id']).where('tenant_id', '=', tenantId).where('state', '=', 'Succeeded').limit(n).execute();
  for (let start = 0; start < n; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(n, start + 500); i++) {
      const r = requests[i % requests.length]!;
      rows.push({
        correlation_id: r.id, tenant_id: tenantId, user_id: r.user_id, uid: `bench-${i}@contoso.com`, subject: `Meeting ${i}`, start_time: now + 86_400_000,
        action: 'Updated' as const, reason: 'BlockReplaced', attendees_notified: 4, at: now - Math.floor((i / n) * 86_400_000), version_written: null, previous_block: null,
      });
    }
    await db.kysely.insertInto('migration_meetings').values(rows).execute();
  }
}

async function oneDatabase(database: DashboardRow['database'], url: string, runs: number): Promise<DashboardRow> {
  log(`dashboard (${database}): seeding ${API_REQUESTS} migration requests and ${HISTORY_ROWS} migrated meetings`);
  const db = await openDatabase(url);
  try {
    const { tenant } = await seed(db, API_REQUESTS);
    await seedHistory(db, tenant.id, HISTORY_ROWS);
    const { code } = await createAdmin(db, { userName: 'bench-admin', role: 'ServiceAdmin', tenant: null, actor: 'bench', now: Date.now() });
    const { child, base } = await startServe(url);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const signedIn = await browser.newContext();
      const setup = await signedIn.request.post(`${base}/signin/setup`, { data: { Code: new URL(setupLink(base, code)).searchParams.get('code'), Password: PASSWORD, ConfirmPassword: PASSWORD } });
      if (!setup.ok()) throw new Error(`setting the bench admin's password failed: ${setup.status()} ${await setup.text()}`);
      const signIn = await signedIn.request.post(`${base}/signin`, { data: { UserName: 'bench-admin', Password: PASSWORD } });
      if (!signIn.ok()) throw new Error(`signing in failed: ${signIn.status()} ${await signIn.text()}`);
      const state = await signedIn.storageState();
      await signedIn.close();
      const load: number[] = [];
      const chart: number[] = [];
      let htmlBytes = 0;
      // One warm-up (the service's first page compiles its code paths), then the measured runs.
      for (let i = 0; i <= runs; i++) {
        const context = await browser.newContext({ storageState: state });
        try {
          const page = await context.newPage();
          const res = await page.goto(`${base}/`, { waitUntil: 'load' });
          if (res?.status() !== 200) throw new Error(`GET / answered ${res?.status()}: ${(await page.textContent('main'))?.slice(0, 300)}`);
          htmlBytes = (await res.body()).length;
          await page.waitForFunction(() => performance.getEntriesByName('mms:chart-drawn').length > 0, undefined, { timeout: 60_000 });
          const t = await page.evaluate(() => {
            const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
            return { load: nav.loadEventEnd - nav.startTime, chart: performance.getEntriesByName('mms:chart-drawn')[0]!.startTime - nav.startTime };
          });
          if (i > 0) {
            load.push(t.load);
            chart.push(t.chart);
          }
        } finally {
          await context.close();
        }
      }
      const row: DashboardRow = {
        database, runs, htmlBytes,
        loadP50Ms: percentile(load, 50), loadP95Ms: percentile(load, 95), chartP50Ms: percentile(chart, 50), chartP95Ms: percentile(chart, 95),
      };
      log(`  first load: p50 ${row.loadP50Ms.toFixed(0)} ms, p95 ${row.loadP95Ms.toFixed(0)} ms to the load event; p50 ${row.chartP50Ms.toFixed(0)} ms, p95 ${row.chartP95Ms.toFixed(0)} ms to the chart drawn (${runs} runs, page ${(htmlBytes / 1024).toFixed(0)} kB)`);
      return row;
    } finally {
      await browser.close();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  } finally {
    await db.close();
  }
}

/** SQLite always; PostgreSQL when reachable (skipped with a line otherwise). */
export async function dashboardScenario(workDir: string, quick: boolean, keep: boolean): Promise<DashboardRow[]> {
  const problem = dashboardProblem();
  if (problem) throw new Error(problem);
  const runs = quick ? 3 : 10;
  fs.mkdirSync(workDir, { recursive: true });
  const file = path.join(workDir, 'dashboard.sqlite');
  const clean = () => { for (const s of ['', '-wal', '-shm', '.secret-key']) fs.rmSync(file + s, { force: true }); };
  clean();
  const rows = [await oneDatabase('sqlite', file, runs)];
  if (!keep) clean();
  const pg = await pgProblem();
  if (pg) {
    log(`dashboard (postgres): skipped: ${pg}`);
    return rows;
  }
  const schema: PgSchema = await freshSchema();
  try {
    rows.push(await oneDatabase('postgres', schema.url, runs));
  } finally {
    if (!keep) await schema.drop();
  }
  return rows;
}

export function formatDashboardTable(rows: readonly DashboardRow[]): string {
  const head = ['database', 'runs', 'load p50 ms', 'load p95 ms', 'chart p50 ms', 'chart p95 ms', 'page kB'];
  const body = rows.map((r) => [r.database, String(r.runs), r.loadP50Ms.toFixed(0), r.loadP95Ms.toFixed(0), r.chartP50Ms.toFixed(0), r.chartP95Ms.toFixed(0), (r.htmlBytes / 1024).toFixed(0)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 1 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
