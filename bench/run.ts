// `npm run bench`: how fast MMS migrates meetings, printed, never asserted. See bench/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { cloneSchema, copyFromSqlite, freshSchema, pgProblem, PG_URL, type PgSchema } from './postgres.js';
import { summarizeProfiles } from './profile-summary.js';
import { caldavProblem, caldavScenario } from './caldav.js';
import { cliScenario, formatCliTable, TARGET_CLI_P50_MS, type CliRow } from './cli-latency.js';
import { concurrentScenario, type ConcurrentResult } from './concurrent.js';
import { apiScenario, formatApiTable, API_REQUESTS, type ApiRow } from './api.js';
import { dashboardProblem, dashboardScenario, formatDashboardTable, type DashboardRow } from './dashboard.js';
import { formatIoTable, type IoRow } from './io-report.js';
import { smtpScenario } from './smtp.js';
import { formatTelemetryTable, telemetryScenario, type TelemetryRow } from './telemetry.js';
import { formatWakeup, wakeupScenario, type WakeupRow } from './wakeup.js';
import { floorWrite, FLOOR_ROWS, type FloorResult, type FloorTarget } from './floor-write.js';
import { formatTable, log, percentile, seconds, writeJson, type ResultRow } from './report.js';
import { openTarget, perUser, startWorkers, stopWorkers, tenantWide, type PerUserResult, type Target, type TenantWideResult } from './scenarios.js';
import { REPO } from './worker-process.js';
import { copyWorld, type World } from './world.js';
import { worldFor } from './world-cache.js';
import { growthBench } from './growth.js';

const TARGET_P50_MS = 300;
const TARGET_RATE = 5_000;
const TARGET_RSS_MB = 300;
/** Issue 13: the tenant-wide change on SQLite reaches this share of the floor; on PostgreSQL each process this share of its part. */
const TARGET_RATIO_SQLITE = 0.7;
const TARGET_RATIO_POSTGRES = 0.6;
/** Issue 13: two PostgreSQL worker processes migrate at least this many times as fast as one. */
const TARGET_SCALE_TWO = 1.6;
const yes = (ok: boolean) => (ok ? 'yes' : 'NO');

function perUserRow(database: ResultRow['database'], workers: string, r: PerUserResult, note: string): ResultRow {
  const p50 = percentile(r.latenciesMs, 50);
  const total = r.latenciesMs.reduce((a, b) => a + b, 0) / 1000;
  return {
    scenario: 'per-user', database, workers,
    meetings: r.meetingsPerRun,
    seconds: total / r.latenciesMs.length,
    meetingsPerSecond: r.meetingsPerRun / (p50 / 1000),
    p50Ms: p50,
    p99Ms: percentile(r.latenciesMs, 99),
    complete: true,
    targets: [`p50<=${TARGET_P50_MS}ms: ${yes(p50 <= TARGET_P50_MS)}`],
    notes: [`${r.latenciesMs.length} runs; ${note}; trigger transaction alone p50 ${percentile(r.triggerMs, 50).toFixed(1)} ms; seconds = mean per run, meetings/s = meetings / p50`],
    detail: { latenciesMs: r.latenciesMs.map((x) => Math.round(x * 10) / 10), triggerMs: r.triggerMs.map((x) => Math.round(x * 10) / 10) },
  };
}

function tenantWideRow(database: ResultRow['database'], workers: string, r: TenantWideResult, floor: FloorResult | undefined, notes: string[]): ResultRow {
  const rate = r.meetings / r.seconds;
  const floorRate = floor ? floor.meetings / floor.seconds : undefined;
  const targets = [`>=${TARGET_RATE}/s: ${yes(rate >= TARGET_RATE)}`];
  if (floorRate) {
    // With n processes the floor has n writers: engine/floor >= x says each process reaches x of the floor for its share.
    const want = database === 'sqlite' ? TARGET_RATIO_SQLITE : TARGET_RATIO_POSTGRES;
    targets.push(`engine/floor>=${want}: ${yes(rate / floorRate >= want)}`);
  }
  // The RSS target is the worker's: judged on worker processes only (the bench process holds the world and more).
  if (r.peakRssMb !== undefined && r.rssBeforeMb === undefined) targets.push(`RSS<=${TARGET_RSS_MB}MB: ${yes(r.peakRssMb <= TARGET_RSS_MB)}`);
  return {
    scenario: 'tenant-wide', database, workers,
    meetings: r.meetings,
    seconds: r.seconds,
    meetingsPerSecond: rate,
    peakRssMb: r.peakRssMb,
    floorMeetingsPerSecond: floorRate,
    floorComplete: floor?.complete,
    ratio: floorRate ? rate / floorRate : undefined,
    complete: r.complete,
    targets,
    notes: [
      `trigger (Unregister-CsOnlineDialInConferencingServiceNumber, ${r.requests} users) ${seconds(r.triggerSeconds)}, included in seconds`,
      ...(Object.keys(r.outcomes).some((k) => k !== 'Updated: BlockReplaced') ? [`ledger: ${JSON.stringify(r.outcomes)} (expected only Updated: BlockReplaced)`] : []),
      ...(floor ? [`floor: ${floor.meetings} meetings in ${seconds(floor.seconds)} with ${floor.writers} writer(s)${floor.complete ? '' : ' (partial: stopped at --max-seconds)'}; rows written ${JSON.stringify(floor.rows)}`] : []),
      ...(r.stopNote ? [r.stopNote] : []),
      ...notes,
    ],
    detail: { ...r, floor },
  };
}

/** The floor's target on a fresh copy of the world, its ledger rows as large as the engine's (`engine` ran per-user). */
async function floorTarget(t: Target, dialect: FloorTarget['dialect'], url: string): Promise<FloorTarget> {
  const sample = await t.db.kysely.selectFrom('migration_meetings').select('previous_block').where('previous_block', 'is not', null).limit(1).executeTakeFirst();
  if (!sample?.previous_block) throw new Error('bench: no previous_block to size the floor\'s ledger rows by; the per-user runs must come first');
  return { dialect, url, tenantId: t.tenant.id, domain: t.tenant.domains[0] as string, previousBlock: sample.previous_block };
}

async function runFloor(what: string, target: FloorTarget, writers: number, opts: BenchOptions): Promise<FloorResult> {
  log(`${what}: the floor (same rows and bytes, plain prepared statements) on a fresh copy of the world, ${writers} writer(s)`);
  const floor = await floorWrite(target, writers, opts.batchSize, opts.maxSeconds);
  log(`  ${floor.meetings} meetings in ${seconds(floor.seconds)}: ${(floor.meetings / floor.seconds).toFixed(0)} meetings/s${floor.complete ? '' : ' (partial)'}`);
  return floor;
}

async function sqliteScenarios(world: World, opts: BenchOptions, rows: ResultRow[]): Promise<void> {
  // In-process: a MigrationWorker in this process, drain() right after the trigger.
  const fileA = copyWorld(world, path.join(opts.workDir, 'sqlite-in-process.sqlite'));
  const fileF = copyWorld(world, path.join(opts.workDir, 'sqlite-floor.sqlite'));
  let t: Target = await openTarget(fileA, world);
  log('sqlite, in-process: per-user runs');
  const pu = await perUser(t, world, { kind: 'drain' }, opts.runs, opts.warmup);
  rows.push(perUserRow('sqlite', 'in-process', pu, 'worker.drain() right after the trigger, same process'));
  // Run order alternates between scenarios (floor first here, engine first on PostgreSQL with 1 process, …) so
  // that neither side always gets the cooler machine or the warmer page cache.
  const floor = await runFloor('sqlite', await floorTarget(t, 'sqlite', fileF), 1, opts);
  if (!opts.keep) removeSqlite(fileF);
  log(`sqlite, in-process: tenant-wide change (${world.tenantWideMeetings} meetings${opts.maxSeconds ? `, stopped after ${opts.maxSeconds} s` : ''})`);
  const tw = await tenantWide(t, world, { kind: 'drain' }, opts.maxSeconds);
  log(`  ${tw.meetings} meetings in ${seconds(tw.seconds)}: ${(tw.meetings / tw.seconds).toFixed(0)} meetings/s`);
  rows.push(tenantWideRow('sqlite', 'in-process', tw, floor, [
    `worker.drain() in the bench process; peak RSS = this process's VmHWM, reset just before the trigger, when it held ${tw.rssBeforeMb?.toFixed(0)} MB already (the bench's own data): not the worker's figure, see the process row`,
    'floor ran before the engine, on its own copy of the world',
  ]));
  await t.db.close();
  if (!opts.keep) removeSqlite(fileA);

  // One `mms serve` process, as deployed on SQLite.
  const fileB = copyWorld(world, path.join(opts.workDir, 'sqlite-process.sqlite'));
  t = await openTarget(fileB, world);
  log('sqlite, 1 worker process: starting');
  const workers = await startWorkers(t, world, 1, opts.pollMs, profileDir(opts, 'sqlite-1'));
  try {
    log('sqlite, 1 worker process: per-user runs');
    const pu1 = await perUser(t, world, { kind: 'processes', workers }, opts.runs, opts.warmup);
    rows.push(perUserRow('sqlite', '1 process', pu1, `mms serve polling every ${opts.pollMs} ms; bench polls the request; end = the worker's own end stamp`));
    log('sqlite, 1 worker process: tenant-wide change');
    const tw1 = await tenantWide(t, world, { kind: 'processes', workers }, opts.maxSeconds);
    log(`  ${tw1.meetings} meetings in ${seconds(tw1.seconds)}: ${(tw1.meetings / tw1.seconds).toFixed(0)} meetings/s, peak RSS ${tw1.peakRssMb?.toFixed(0)} MB`);
    rows.push(tenantWideRow('sqlite', '1 process', tw1, floor, ['peak RSS = VmHWM of the mms serve process', 'floor figure from the in-process row (same storage, one writer)']));
  } finally {
    await stopWorkers(workers);
    await t.db.close();
    if (!opts.keep) removeSqlite(fileB);
  }
}

async function postgresScenarios(world: World, opts: BenchOptions, rows: ResultRow[]): Promise<void> {
  const schemas: PgSchema[] = [];
  try {
    log(`postgres: copying the world into a fresh schema on ${PG_URL}`);
    const t0 = performance.now();
    const first = await freshSchema();
    schemas.push(first);
    await copyFromSqlite(world.file, first);
    log(`  ${first.schema} ready in ${seconds((performance.now() - t0) / 1000)}`);
    const second = await freshSchema();
    schemas.push(second);
    const t1 = performance.now();
    await cloneSchema(first, second);
    log(`  ${second.schema} cloned in ${seconds((performance.now() - t1) / 1000)}`);

    // Fresh copies for the floors, cloned before anything ran on `first`.
    const floors: PgSchema[] = [];
    for (let i = 0; i < 2; i++) {
      const f = await freshSchema();
      schemas.push(f);
      floors.push(f);
      const tf = performance.now();
      await cloneSchema(first, f);
      log(`  ${f.schema} (floor ${i + 1}) cloned in ${seconds((performance.now() - tf) / 1000)}`);
    }

    for (const [n, schema] of [[1, first], [2, second]] as const) {
      const t = await openTarget(schema.url, world);
      const label = `${n} process${n > 1 ? 'es' : ''}`;
      const floorSchema = floors[n - 1] as PgSchema;
      // Alternating order: engine first with 1 process, floor first with 2.
      const floorFirst = n === 2;
      let floor: FloorResult | undefined;
      log(`postgres, ${label}: starting`);
      const workers = await startWorkers(t, world, n, opts.pollMs, profileDir(opts, `postgres-${n}`));
      let tw: TenantWideResult;
      try {
        log(`postgres, ${label}: per-user runs`);
        const pu = await perUser(t, world, { kind: 'processes', workers }, opts.runs, opts.warmup);
        rows.push(perUserRow('postgres', label, pu, `mms serve polling every ${opts.pollMs} ms; bench polls the request; end = the worker's own end stamp`));
        if (floorFirst) floor = await runFloor(`postgres, ${label}`, await floorTarget(t, 'postgres', floorSchema.url), n, opts);
        log(`postgres, ${label}: tenant-wide change`);
        tw = await tenantWide(t, world, { kind: 'processes', workers }, opts.maxSeconds);
        log(`  ${tw.meetings} meetings in ${seconds(tw.seconds)}: ${(tw.meetings / tw.seconds).toFixed(0)} meetings/s, peak RSS ${tw.peakRssMb?.toFixed(0)} MB`);
      } finally {
        await stopWorkers(workers);
      }
      if (!floorFirst) floor = await runFloor(`postgres, ${label}`, await floorTarget(t, 'postgres', floorSchema.url), n, opts);
      let row = tenantWideRow('postgres', label, tw, floor, [
        `peak RSS = the highest VmHWM of the ${label}`,
        `floor: ${n} concurrent writer(s) in the bench process, on its own copy of the world, ${floorFirst ? 'before' : 'after'} the engine`,
      ]);
      const one = rows.find((r) => r.scenario === 'tenant-wide' && r.database === 'postgres' && r.workers === '1 process');
      if (n === 2 && one) {
        const scale = row.meetingsPerSecond / one.meetingsPerSecond;
        row = { ...row, targets: [...row.targets, `>=${TARGET_SCALE_TWO}x 1 process: ${yes(scale >= TARGET_SCALE_TWO)} (${scale.toFixed(2)}x)`] };
      }
      rows.push(row);
      await t.db.close();
      if (!opts.keep) await floorSchema.drop().catch(() => undefined);
    }
  } finally {
    if (!opts.keep) for (const s of schemas) await s.drop().catch(() => undefined);
    else log(`postgres: kept schemas ${schemas.map((s) => s.schema).join(', ')}`);
  }
}

function profileDir(opts: BenchOptions, name: string): string | undefined {
  return opts.profile ? path.join(REPO, 'bench', 'results', 'profiles', name) : undefined;
}

function removeSqlite(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (process.env.TZ !== 'UTC') process.env.TZ = 'UTC';
  if (opts.growth) return growthBench(opts);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadAtStart = os.loadavg();
  log(`mms bench${opts.quick ? ' --quick' : ''}: ${os.cpus().length} CPUs, node ${process.version}, ${opts.only ?? 'sqlite, postgres, smtp, caldav and cli'}`);
  if (opts.profile) fs.rmSync(path.join(REPO, 'bench', 'results', 'profiles'), { recursive: true, force: true });
  // The storage scenarios share the world; --only smtp / --only caldav need neither it nor PostgreSQL.
  const storage = opts.only === undefined || opts.only === 'sqlite' || opts.only === 'postgres';
  const pgSkip = storage && opts.only !== 'sqlite' ? await pgProblem() : `not asked for (--only ${opts.only})`;
  if (pgSkip && opts.only === 'postgres') throw new Error(pgSkip);
  const world = storage ? await worldFor(opts.workDir, opts.size, opts.freshWorld) : undefined;
  const rows: ResultRow[] = [];
  const ioRows: IoRow[] = [];
  const cliRows: CliRow[] = [];
  let concurrent: ConcurrentResult | undefined;
  const apiRows: ApiRow[] = [];
  const dashboardRows: DashboardRow[] = [];
  const telemetryRows: TelemetryRow[] = [];
  const wakeupRows: WakeupRow[] = [];
  const failures: string[] = [];
  const attempt = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      failures.push(`${name}: ${(err as Error).stack ?? String(err)}`);
      log(`${name} FAILED: ${(err as Error).message}`);
    }
  };
  if (world && opts.only !== 'postgres') await attempt('sqlite', () => sqliteScenarios(world, opts, rows));
  if (world && !pgSkip) await attempt('postgres', () => postgresScenarios(world, opts, rows));
  else if (world) log(`postgres: skipped: ${pgSkip}`);
  if (opts.only === undefined || opts.only === 'smtp') await attempt('smtp', async () => { ioRows.push(...await smtpScenario(opts.smtp, opts.workDir, opts.keep)); });
  // Like PostgreSQL: a machine without Radicale skips CalDAV in a full run; --only caldav fails on it.
  if (opts.only === undefined && caldavProblem()) log(`caldav: skipped: ${caldavProblem()}`);
  else if (opts.only === undefined || opts.only === 'caldav') await attempt('caldav', async () => { ioRows.push(...await caldavScenario(opts.caldav, opts.workDir, opts.keep)); });
  if (opts.only === undefined || opts.only === 'cli') await attempt('cli', async () => { cliRows.push(...await cliScenario(opts.runs, opts.workDir, opts.keep)); });
  if (opts.only === undefined || opts.only === 'concurrent') await attempt('concurrent', async () => { concurrent = await concurrentScenario(opts.quick, opts.size, opts.workDir, opts.pollMs, opts.keep, opts.freshWorld); });
  if (opts.only === undefined || opts.only === 'api') await attempt('api', async () => { apiRows.push(...await apiScenario(opts.workDir, opts.quick, opts.keep)); });
  // Like CalDAV: a full run without Chromium skips it with a line; --only dashboard fails on it.
  if (opts.only === undefined && dashboardProblem()) log(`dashboard: skipped: ${dashboardProblem()}`);
  else if (opts.only === undefined || opts.only === 'dashboard') await attempt('dashboard', async () => { dashboardRows.push(...await dashboardScenario(opts.workDir, opts.quick, opts.keep)); });

  if (opts.only === undefined || opts.only === 'telemetry') await attempt('telemetry', async () => { telemetryRows.push(...await telemetryScenario(opts.workDir, opts.quick, opts.keep, (name) => profileDir(opts, name))); });

  if (opts.only === undefined || opts.only === 'wakeup') await attempt('wakeup', async () => { wakeupRows.push(...await wakeupScenario(opts.workDir, opts.quick, opts.keep, opts.freshWorld)); });

  const totalSeconds = (performance.now() - started) / 1000;
  const loadAtEnd = os.loadavg();
  const load = `load average ${loadAtStart[0]?.toFixed(1)} at start, ${loadAtEnd[0]?.toFixed(1)} at end (other processes on the machine skew the figures)`;
  if (world) {
    const table = formatTable(rows);
    process.stdout.write(`\nfloor = per migrated meeting: ${FLOOR_ROWS.join('; ')}; 50 meetings a transaction, plain prepared statements (bench/floor-write.ts)\n`);
    process.stdout.write(`\nMMS bench (${opts.quick ? 'quick' : 'full'}${opts.maxSeconds > 0 ? `, tenant-wide runs stopped after ${opts.maxSeconds} s: rows marked * are partial` : ''}): ${world.tenantWideMeetings} meetings tenant-wide (${world.size.organizers} organizers x ${world.size.meetingsPerOrganizer}, 8 attendees, 4 internal), per-user ${world.size.soloMeetings} meetings; ${os.cpus().length} CPUs, ${load}; total ${seconds(totalSeconds)}\n\n${table}\n`);
  }
  if (ioRows.length) {
    process.stdout.write(`\nMMS bench, SMTP and CalDAV (${opts.quick ? 'quick' : 'full'}; floor = a plain client loop of the same requests to the same server; ${os.cpus().length} CPUs, ${load}; total ${seconds(totalSeconds)}\n\n${formatIoTable(ioRows)}\n`);
  }
  if (cliRows.length) {
    process.stdout.write(`\nMMS bench, cmdlet latency (a read cmdlet on the Contoso demo database, SQLite, wall time from spawn to exit; ${os.cpus().length} CPUs, ${load})\n\n${formatCliTable(cliRows)}\n`);
  }
  if (concurrent) process.stdout.write(`\nMMS bench, admin commands during a migration (${os.cpus().length} CPUs, ${load})\n\n${concurrent.lines.join('\n')}\n`);
  if (apiRows.length) {
    process.stdout.write(`\nMMS bench, REST API (mms serve from dist/, default settings, ${API_REQUESTS} migration requests in the database, 8 requests in flight from a second process; ${opts.quick ? '3' : '10'} s per row; ${os.cpus().length} CPUs, ${load})\n\n${formatApiTable(apiRows)}\n`);
  }
  if (dashboardRows.length) {
    process.stdout.write(`\nMMS bench, admin center dashboard first load in Chromium (mms serve from dist/, ${API_REQUESTS} migration requests and a day of migrated meetings in the database; a fresh page per run, signed in; navigation start to the load event and to the chart drawn; ${os.cpus().length} CPUs, ${load})\n\n${formatDashboardTable(dashboardRows)}\n`);
  }
  if (telemetryRows.length) {
    process.stdout.write(`\nMMS bench, client telemetry ingestion (mms serve's REST app in a process of its own, request log on; batches of 100 events over 8 connections from a second process, ${opts.quick ? '3' : '10'} s per kind; floor = the stored rows inserted again with plain prepared statements, 100 a transaction, on a fresh database; the mix row (45 % census, 45 % usage, 10 % error reports) is computed from the kinds' rates and judges the targets; ${os.cpus().length} CPUs, ${load})\n\n${formatTelemetryTable(telemetryRows)}\n`);
  }
  if (wakeupRows.length) {
    process.stdout.write(`\nMMS bench, wake-up (mms serve from dist/ with the default MMS_MIGRATION_DELAY and MMS_POLL_INTERVAL; one user with ${wakeupRows[0]?.meetings} meetings, Set-CsOnlineDialInConferencingUser -ResetConferenceId; claim = the worker's claim stamp minus the request's NotBefore (trigger + delay); Succeeded = its end stamp minus the trigger; ${os.cpus().length} CPUs, ${load})\n\n${formatWakeup(wakeupRows)}\n`);
  }
  let profiles = '';
  if (opts.profile) {
    profiles = summarizeProfiles(path.join(REPO, 'bench', 'results', 'profiles'));
    process.stdout.write(`\n${profiles}\n`);
  }
  const out = path.join(REPO, 'bench', 'results', 'latest.json');
  writeJson(out, {
    startedAt,
    totalSeconds,
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 1e9), node: process.version, platform: `${os.platform()} ${os.release()}` },
    options: opts,
    world,
    targets: { perUserP50Ms: TARGET_P50_MS, tenantWideMeetingsPerSecond: TARGET_RATE, peakRssMb: TARGET_RSS_MB, smtpAndCaldavEngineOverFloor: 0.8, cliP50Ms: TARGET_CLI_P50_MS },
    rows,
    ioRows,
    cliRows,
    concurrent,
    apiRows,
    dashboardRows,
    telemetryRows,
    wakeupRows,
    failures,
    profiles: profiles || undefined,
  });
  log(`results: ${path.relative(process.cwd(), out)}`);
  for (const f of failures) process.stderr.write(`\n${f}\n`);
  return failures.length ? 1 : 0;
}

process.exitCode = await main();
