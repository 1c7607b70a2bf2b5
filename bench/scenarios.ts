// The measured scenarios. Triggers always go through the real directory API; the work is done either by a
// MigrationWorker inside this process (drain() right after the trigger) or by `mms serve` worker processes, in
// which case the bench watches the database until every request has ended.
import { sql } from 'kysely';
import { changeTenant, resolveTenant, setDialInUser, unregisterServiceNumber, type DirectoryContext } from '../src/directory/index.js';
import type { Tenant } from '../src/domain/directory.js';
import { MigrationWorker, startMigration, type Logger } from '../src/migration/index.js';
import { getRequest } from '../src/store/queue-repo.js';
import { openDatabase, type Db } from '../src/store/index.js';
import { log, seconds } from './report.js';
import { peakRssMb, resetPeakRss, rssMb, startWorker, type WorkerProcess } from './worker-process.js';
import type { World } from './world.js';

const SILENT: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One database the bench drives: its handle, a directory context with migration delay 0, and the tenant. */
export interface Target {
  readonly db: Db;
  readonly url: string;
  readonly ctx: DirectoryContext;
  readonly tenant: Tenant;
}

export async function openTarget(url: string, world: World): Promise<Target> {
  const db = await openDatabase(url, { poolSize: 4 });
  const ctx: DirectoryContext = { db, actor: 'bench', now: Date.now, migrationDelayMs: 0 };
  return { db, url, ctx, tenant: await resolveTenant(db, world.tenantName) };
}

/** How the work runs. */
export type Runner =
  | { readonly kind: 'drain' }
  | { readonly kind: 'processes'; readonly workers: readonly WorkerProcess[] };

export interface PerUserResult {
  /** Trigger → Succeeded, ms, one per measured run. */
  readonly latenciesMs: number[];
  /** The trigger's own transaction, ms. */
  readonly triggerMs: number[];
  readonly meetingsPerRun: number;
}

/**
 * One user's meetings, triggered by Set-CsOnlineDialInConferencingUser -ResetConferenceId: the time from the call
 * until the request is Succeeded. Warm-up runs come first and are not counted.
 */
export async function perUser(t: Target, world: World, runner: Runner, runs: number, warmup: number): Promise<PerUserResult> {
  const worker = runner.kind === 'drain' ? new MigrationWorker({ db: t.db, logger: SILENT }) : null;
  const latenciesMs: number[] = [];
  const triggerMs: number[] = [];
  let meetingsPerRun = 0;
  for (let i = 0; i < warmup + runs; i++) {
    const wall0 = Date.now();
    const t0 = performance.now();
    const out = await setDialInUser(t.ctx, t.tenant.id, world.soloUpn, { resetConferenceId: true });
    const t1 = performance.now();
    if (!out.correlationId) throw new Error(`bench: resetting the conference ID queued no migration: ${out.decision.reason}`);
    let latency: number;
    if (worker) {
      await worker.drain();
      latency = performance.now() - t0;
    } else {
      for (;;) {
        const r = await getRequest(t.db, out.correlationId);
        if (r && (r.state === 'Succeeded' || r.state === 'Failed')) {
          // The worker stamps the end with the same machine clock: no polling granularity in the figure.
          latency = r.modifiedDate - wall0;
          break;
        }
        await sleep(2);
      }
    }
    const r = await getRequest(t.db, out.correlationId);
    if (r?.state !== 'Succeeded') throw new Error(`bench: the per-user request ended ${r?.state}: ${r?.lastMessage}`);
    if (r.invitesUpdate !== world.size.soloMeetings) throw new Error(`bench: the per-user run updated ${r.invitesUpdate} meetings, expected ${world.size.soloMeetings}: ${r.lastMessage}`);
    meetingsPerRun = r.invitesUpdate;
    if (i >= warmup) {
      latenciesMs.push(latency);
      triggerMs.push(t1 - t0);
    }
  }
  return { latenciesMs, triggerMs, meetingsPerRun };
}

/** Waits until every worker process has run a request: they are up, connected and polling. */
export async function waitForWorkers(t: Target, world: World, workers: readonly WorkerProcess[]): Promise<void> {
  const seen = new Set<string>();
  const deadline = Date.now() + 120_000;
  while (seen.size < workers.length) {
    if (Date.now() > deadline) throw new Error(`bench: only ${seen.size} of ${workers.length} worker processes answered within 2 minutes`);
    const dead = workers.map((w) => w.exited()).find((e) => e !== undefined);
    if (dead) throw new Error(`bench: a worker process exited at start (code ${dead.code}): ${dead.stderr.trim().split('\n').slice(-5).join(' | ')}`);
    const started = await startMigration(t.db, t.tenant, world.idleUpns.slice(0, Math.max(2, workers.length)), { actor: 'bench', now: Date.now });
    const ids = started.flatMap((s) => (s.status === 'Queued' ? [s.correlationId] : []));
    for (;;) {
      const rows = await t.db.kysely.selectFrom('migration_requests').select(['id', 'state']).where('id', 'in', ids).execute();
      if (rows.every((r) => r.state === 'Succeeded' || r.state === 'Failed')) break;
      if (workers.some((w) => w.exited())) break;
      await sleep(20);
    }
    const attempts = await t.db.kysely.selectFrom('migration_attempts').select('worker_id').where('correlation_id', 'in', ids).execute();
    for (const a of attempts) seen.add(a.worker_id);
    if (seen.size < workers.length) await sleep(50);
  }
}

export interface TenantWideResult {
  readonly meetings: number;
  readonly seconds: number;
  readonly triggerSeconds: number;
  readonly requests: number;
  readonly states: Record<string, number>;
  /** Ledger rows by action and reason. */
  readonly outcomes: Record<string, number>;
  readonly complete: boolean;
  readonly peakRssMb: number | undefined;
  readonly peakRssByWorkerMb: number[];
  /** In-process runs: this process's resident set when its peak was reset, just before the trigger. */
  readonly rssBeforeMb: number | undefined;
  /** How the workers stopped at the limit. */
  readonly stopNote: string | undefined;
}

async function progress(t: Target, since: number) {
  const rows = await t.db.kysely.selectFrom('migration_requests').select(['state', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.max('modified_date').as('last')])
    .where('tenant_id', '=', t.tenant.id).where('create_date', '>=', since).groupBy('state').execute();
  const states: Record<string, number> = {};
  let last = since;
  for (const r of rows) {
    states[r.state] = Number(r.n);
    if (r.state === 'Succeeded' || r.state === 'Failed') last = Math.max(last, Number(r.last));
  }
  const open = (states.Pending ?? 0) + (states.InProgress ?? 0);
  return { states, open, last };
}

/** What the ledger says the run did, by action and reason (every bench meeting should be Updated: BlockReplaced). */
async function ledgerSince(t: Target, since: number): Promise<{ updated: number; outcomes: Record<string, number> }> {
  const r = await sql<{ action: string; reason: string; n: number }>`
    select action, reason, count(*) as n from migration_meetings where tenant_id = ${t.tenant.id} and at >= ${since} group by action, reason`.execute(t.db.kysely);
  const outcomes: Record<string, number> = {};
  let updated = 0;
  for (const row of r.rows) {
    outcomes[`${row.action}: ${row.reason.split(':')[0]}`] = Number(row.n);
    if (row.action === 'Updated') updated += Number(row.n);
  }
  return { updated, outcomes };
}

/**
 * The tenant-wide change: Unregister-CsOnlineDialInConferencingServiceNumber of the default toll number of the
 * bridge every organizer is on. Timed from the call until the last request has ended (or `maxSeconds`, when the
 * workers are stopped and the meetings done so far are counted).
 */
export async function tenantWide(t: Target, world: World, runner: Runner, maxSeconds: number): Promise<TenantWideResult> {
  const worker = runner.kind === 'drain' ? new MigrationWorker({ db: t.db, logger: SILENT }) : null;
  const processes = runner.kind === 'processes' ? runner.workers : [];
  let rssBeforeMb: number | undefined;
  if (worker) {
    (globalThis as { gc?: () => void }).gc?.();
    resetPeakRss();
    rssBeforeMb = rssMb('self');
  }
  const wall0 = Date.now();
  const t0 = performance.now();
  const out = await unregisterServiceNumber(t.ctx, t.tenant.id, { number: world.numberToUnassign, bridgeName: world.bridgeName, removeDefaultServiceNumber: true });
  const triggerSeconds = (performance.now() - t0) / 1000;
  const requests = out.outcomes.filter((o) => o.decision.migrate).length;
  log(`  trigger: ${requests} requests queued in ${seconds(triggerSeconds)}`);
  if (requests !== world.size.organizers) throw new Error(`bench: the tenant-wide change queued ${requests} requests, expected ${world.size.organizers}`);
  let capped = false;
  let capMeetings = 0;
  let capElapsed = 0;
  let stopNote: string | undefined;
  let peakByWorker: number[] = [];
  const cap = maxSeconds > 0 ? t0 + maxSeconds * 1000 : Infinity;
  // At the limit: count what is done, then pause the queue through the admin's own switch (MeetingMigrationEnabled
  // off) so that the workers go idle after the request in hand, and only then stop them.
  const stopAtCap = async () => {
    capped = true;
    capElapsed = (performance.now() - t0) / 1000;
    capMeetings = (await ledgerSince(t, wall0)).updated;
    await changeTenant(t.ctx, t.tenant.id, 'Set-CsTenantMigrationConfiguration', { settings: { meetingMigrationEnabled: false } });
  };
  if (worker) {
    let lastLog = performance.now();
    // Checked between requests, not by a timer: on SQLite the whole run is one long chain of resolved promises
    // (better-sqlite3 is synchronous), so a timer would not fire before the queue is empty.
    while (await worker.runOnce()) {
      if (performance.now() > cap) {
        await stopAtCap();
        break;
      }
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        const p = await progress(t, wall0);
        log(`  ${p.states.Succeeded ?? 0}/${requests} requests done`);
      }
    }
  } else {
    let lastLog = performance.now();
    for (;;) {
      await sleep(250);
      const p = await progress(t, wall0);
      if (p.open === 0) break;
      if (performance.now() > cap) {
        await stopAtCap();
        break;
      }
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        log(`  ${p.states.Succeeded ?? 0}/${requests} requests done`);
      }
    }
    peakByWorker = processes.map((w) => w.peakMb());
    if (capped) {
      // Wait for the workers to go idle (no InProgress request left), then stop them.
      const idle0 = performance.now();
      while ((await progress(t, wall0)).states.InProgress && performance.now() - idle0 < 60_000) await sleep(50);
      const s0 = performance.now();
      const stopped = await Promise.all(processes.map((w) => w.stop()));
      peakByWorker = stopped.map((x) => x.peakMb);
      stopNote = `stopped at the limit: workers idle ${seconds((s0 - idle0) / 1000)} after the pause, exited ${seconds((performance.now() - s0) / 1000)} after SIGTERM${stopped.some((x) => x.killed) ? ' (SIGKILL was needed)' : ''}`;
    }
  }
  const p = await progress(t, wall0);
  const ledger = await ledgerSince(t, wall0);
  const complete = p.open === 0 && !capped;
  // Complete: from the call to the last request's end (stamped by the worker); stopped: what was done at the limit.
  const meetings = complete ? ledger.updated : capMeetings;
  const elapsed = complete ? (p.last - wall0) / 1000 : capElapsed;
  const peak = worker ? peakRssMb('self') : Math.max(...peakByWorker);
  return {
    meetings, seconds: elapsed, triggerSeconds, requests, states: p.states, outcomes: ledger.outcomes, complete,
    peakRssMb: peak, peakRssByWorkerMb: peakByWorker, rssBeforeMb, stopNote,
  };
}

/** Starts `n` worker processes on a database and waits until each has run a request. */
export async function startWorkers(t: Target, world: World, n: number, pollMs: number, cpuProfileDir?: string): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: n }, () => startWorker({ databaseUrl: t.url, pollMs, cpuProfileDir }));
  try {
    await waitForWorkers(t, world, workers);
  } catch (err) {
    await Promise.all(workers.map((w) => w.stop()));
    throw err;
  }
  return workers;
}

export async function stopWorkers(workers: readonly WorkerProcess[]): Promise<void> {
  const done = await Promise.all(workers.map((w) => w.stop()));
  for (const d of done) if (d.code !== 0 && d.code !== null) log(`  a worker exited with code ${d.code}: ${d.stderr.trim().split('\n').slice(-3).join(' | ')}`);
}
