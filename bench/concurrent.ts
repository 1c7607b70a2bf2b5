// The concurrent-commands scenario (issue 9 §2): 20 admin cmdlets, reads and writes, run one after another — each a
// fresh `mms` process, as an admin's script runs them — while one `mms serve` process migrates a tenant-wide change
// on SQLite. Target: no command fails. Prints their p50/p99 latency, whether the migration was still running when
// the last one ended ("partial" when it finished before), how long the commands waited for the write lock, and the
// worker's own write-transaction figures (MMS_DEBUG=tx: count, longest held, longest wait). See bench/README.md.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { unregisterServiceNumber } from '../src/directory/index.js';
import { log, percentile, seconds } from './report.js';
import { openTarget, waitForWorkers, type Target } from './scenarios.js';
import { REPO, startWorker } from './worker-process.js';
import { copyWorld, DOMAIN, type World, type WorldSize } from './world.js';
import { worldFor } from './world-cache.js';

/** 12,000 meetings (300 organizers x 40): about the ~10,000 of the issue; --quick uses the quick world (2,000). */
export const CONCURRENT_SIZE: WorldSize = { organizers: 300, meetingsPerOrganizer: 40, pool: 100, soloMeetings: 100 };
const COMMANDS = 20;

export interface ConcurrentResult {
  readonly meetings: number;
  readonly commands: ReadonlyArray<{ argv: readonly string[]; ms: number; code: number | null; waitMs: number; waited: boolean; error: string }>;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Index (1-based) of the last command that ended while the migration still ran; COMMANDS = all of them. */
  readonly runningThrough: number;
  readonly migrationSeconds: number;
  readonly workerLine: string;
  readonly lines: readonly string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One small .ics for Import-MmsCalendar (a meeting the idle user organizes, one external attendee). */
function icsFile(dir: string, upn: string, i: number): string {
  const file = path.join(dir, `import-${i}.ics`);
  const day = String(1 + i).padStart(2, '0');
  fs.writeFileSync(file, [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//MMS bench//concurrent//EN', 'BEGIN:VEVENT',
    `UID:bench-concurrent-${i}-${Date.now()}@${DOMAIN}`, 'DTSTAMP:20261130T120000Z', `DTSTART:202712${day}T100000Z`, `DTEND:202712${day}T110000Z`,
    `SUMMARY:Imported during the run ${i}`, `ORGANIZER:mailto:${upn}`, 'ATTENDEE;CN=Partner;RSVP=TRUE:mailto:partner@partner.example',
    'END:VEVENT', 'END:VCALENDAR', '',
  ].join('\r\n'));
  return file;
}

/** The 20 commands: a status summary, PIN length 7/6, a new user, the audit log, an import, and so on in turn. */
function commandList(world: World, dir: string): string[][] {
  const idle = world.idleUpns[world.idleUpns.length - 1] as string;
  const cycle = (k: number): string[][] => [
    ['Get-CsMeetingMigrationStatus', '-SummaryOnly'],
    ['Set-CsOnlineDialInConferencingTenantSettings', '-PinLength', k % 2 === 0 ? '7' : '6'],
    ['New-MmsUser', `admin${k}@${DOMAIN}`, '-DisplayName', `Admin ${k}`],
    ['Get-MmsAuditLog', '-Identity', idle],
    ['Import-MmsCalendar', idle, '-Path', icsFile(dir, idle, k)],
  ];
  return Array.from({ length: COMMANDS / 5 }, (_, k) => cycle(k)).flat();
}

/** bin/mms.js runs dist/ only when it is as new as src/; builds it first otherwise (as the cli scenario does). */
function ensureBuilt(env: NodeJS.ProcessEnv): void {
  const probe = spawnSync(process.execPath, ['bin/mms.js', '--version'], { cwd: REPO, env: { ...env, MMS_DEBUG: '' }, encoding: 'utf8' });
  if (probe.status === 0 && !probe.stderr) return;
  log(`concurrent: ${probe.stderr.trim() || 'bin/mms.js did not run'}; building dist/ first (npm run build)`);
  const b = spawnSync('npm', ['run', 'build'], { cwd: REPO, env, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stdout}${b.stderr}`);
}

/** One `node bin/mms.js …` run: wall time, exit code, its wait for the lock (from its MMS_DEBUG=tx line) and error. */
function runOnce(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number | null; waitMs: number; waited: boolean; error: string }> {
  return new Promise((resolve, reject) => {
    let err = '';
    const t0 = performance.now();
    const child = spawn(process.execPath, ['bin/mms.js', ...argv], { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      const wait = /longest wait for the lock ([\d.]+) ms/.exec(err);
      const error = err.split('\n').filter((l) => l && !/^mms: (write transactions|waiting for the write lock)/.test(l)).join(' | ');
      // Waited: it said it began waiting for the lock held by another process (its BEGIN alone also counts in waitMs).
      resolve({ ms, code, waitMs: wait ? Number(wait[1]) : 0, waited: /waiting for the write lock/.test(err), error });
    });
  });
}

async function openRequests(t: Target, since: number): Promise<number> {
  const r = await t.db.kysely.selectFrom('migration_requests').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenant_id', '=', t.tenant.id).where('create_date', '>=', since).where('state', 'in', ['Pending', 'InProgress']).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function concurrentScenario(quick: boolean, quickSize: WorldSize, workDir: string, pollMs: number, keep: boolean, freshWorld: boolean): Promise<ConcurrentResult> {
  const world = await worldFor(workDir, quick ? quickSize : CONCURRENT_SIZE, freshWorld);
  const file = copyWorld(world, path.join(workDir, 'concurrent.sqlite'));
  const dir = fs.mkdtempSync(path.join(workDir, 'concurrent-ics-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MMS_') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, { MMS_DATABASE_URL: file, MMS_ACTOR: 'bench', MMS_DEBUG: 'tx', TZ: 'UTC' });
  ensureBuilt(env);
  const t = await openTarget(file, world);
  const worker = startWorker({ databaseUrl: file, pollMs, env: { MMS_DEBUG: 'tx' } });
  let stopped = false;
  try {
    log('concurrent: 1 mms serve process starting');
    await waitForWorkers(t, world, [worker]);
    const commands = commandList(world, dir);
    const wall0 = Date.now();
    const t0 = performance.now();
    const out = await unregisterServiceNumber(t.ctx, t.tenant.id, { number: world.numberToUnassign, bridgeName: world.bridgeName, removeDefaultServiceNumber: true });
    const requests = out.outcomes.filter((o) => o.decision.migrate).length;
    log(`concurrent: tenant-wide change queued ${requests} requests (${world.tenantWideMeetings} meetings) in ${seconds((performance.now() - t0) / 1000)}; running ${COMMANDS} commands`);
    const done: Array<ConcurrentResult['commands'][number]> = [];
    let runningThrough = 0;
    for (const argv of commands) {
      const r = await runOnce(argv, env);
      done.push({ argv, ...r });
      if ((await openRequests(t, wall0)) > 0) runningThrough = done.length;
      if (r.code !== 0) log(`  FAILED (exit ${r.code}): mms ${argv.join(' ')}: ${r.error}`);
    }
    while ((await openRequests(t, wall0)) > 0) {
      if (worker.exited()) throw new Error(`bench: the worker exited during the run: ${worker.exited()?.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      await sleep(250);
    }
    const last = await t.db.kysely.selectFrom('migration_requests').select((eb) => eb.fn.max('modified_date').as('m')).where('tenant_id', '=', t.tenant.id).where('create_date', '>=', wall0).executeTakeFirstOrThrow();
    const migrationSeconds = (Number(last.m) - wall0) / 1000;
    const updated = await t.db.kysely.selectFrom('migration_meetings').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', t.tenant.id).where('at', '>=', wall0).where('action', '=', 'Updated').executeTakeFirstOrThrow();
    const stop = await worker.stop();
    stopped = true;
    const workerLine = /mms: write transactions: .*/.exec(stop.stderr)?.[0].replace(/^mms: /, '') ?? '(no MMS_DEBUG=tx line from the worker)';
    const workerWaits = (stop.stderr.match(/waiting for the write lock/g) ?? []).length;
    const ms = done.map((d) => d.ms);
    const failures = done.filter((d) => d.code !== 0).length;
    const waited = done.filter((d) => d.waited);
    const slowest = done.reduce((a, b) => (b.ms > a.ms ? b : a));
    const running = runningThrough === COMMANDS ? 'yes, during all 20' : `partial: it finished during command ${runningThrough + 1} of ${COMMANDS}`;
    const lines = [
      `concurrent: ${COMMANDS} admin cmdlets (node bin/mms.js, one after another) during a tenant-wide migration of ${Number(updated.n)} meetings (${requests} organizers) by 1 mms serve process, SQLite`,
      `  failures: ${failures} (target 0); latency p50 ${percentile(ms, 50).toFixed(0)} ms, p99 ${percentile(ms, 99).toFixed(0)} ms, slowest ${slowest.ms.toFixed(0)} ms (mms ${slowest.argv.slice(0, 3).join(' ')}); migration still running: ${running}`,
      `  commands that waited for the write lock: ${waited.length}, longest wait ${Math.max(0, ...done.map((d) => d.waitMs)).toFixed(0)} ms; the migration took ${seconds(migrationSeconds)}`,
      `  worker: ${workerLine}; waits for the lock begun: ${workerWaits}${stop.stderr.length >= 4000 ? '+ (stderr tail only)' : ''}`,
    ];
    for (const l of lines) log(l);
    return { meetings: Number(updated.n), commands: done, failures, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), runningThrough, migrationSeconds, workerLine, lines };
  } finally {
    if (!stopped) await worker.stop();
    await t.db.close();
    fs.rmSync(dir, { recursive: true, force: true });
    if (!keep) for (const suffix of ['', '-wal', '-shm', '.secret-key']) fs.rmSync(file + suffix, { force: true });
  }
}
