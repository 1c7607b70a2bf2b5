import type { Kysely } from 'kysely';
import { chunks } from './chunks.js';
import type { Database } from './schema.js';

type K = Kysely<Database>;

/**
 * A worker counts as running while its last beat is younger than three of its beat intervals, and never less than
 * a minute. Three beats: one late beat (a batch that held the event loop, a lock wait on SQLite) must not make a
 * running worker look gone. A minute at least: the default lease is a minute too, so a worker silent for longer
 * would have lost its request to another one anyway; and the hosts of a worker and of the command that reads the
 * row may disagree on the time by some seconds. Each side uses its own clock (unlike leases, which PostgreSQL times
 * with its own): hosts whose clocks differ by more than the minute can see a false "no worker" warning, or miss one
 * — a warning only, nothing is decided by it; keep the hosts' clocks synchronized (NTP).
 */
export const WORKER_GONE_AFTER = { beats: 3, minMs: 60_000 } as const;

export interface WorkerBeat {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly now: number;
  readonly beatMs: number;
}

/** Records that the worker is alive now (one upsert; the same statement on SQLite and PostgreSQL). */
export async function beatWorker(k: K, w: WorkerBeat): Promise<void> {
  await k.insertInto('worker_heartbeats')
    .values({ id: w.id, host: w.host, pid: w.pid, started_at: w.startedAt, last_seen_at: w.now, beat_ms: w.beatMs })
    .onConflict((oc) => oc.column('id').doUpdateSet({ last_seen_at: w.now, beat_ms: w.beatMs }))
    .execute();
}

/** A worker that stops cleanly removes its row: what is left is workers that run, or died. */
export async function removeWorker(k: K, id: string): Promise<void> {
  await k.deleteFrom('worker_heartbeats').where('id', '=', id).execute();
}

/** Forgets workers not seen since `before` (rows of workers that died long ago), keeping the newest one. */
export async function pruneWorkers(k: K, before: number): Promise<void> {
  const newest = await k.selectFrom('worker_heartbeats').select('id').orderBy('last_seen_at', 'desc').limit(1).executeTakeFirst();
  let q = k.deleteFrom('worker_heartbeats').where('last_seen_at', '<', before);
  if (newest) q = q.where('id', '<>', newest.id);
  await q.execute();
}

export interface WorkerLiveness {
  /** Whether some worker beat recently enough (WORKER_GONE_AFTER). */
  readonly running: boolean;
  /** When a worker was last seen; null when none ever wrote a heartbeat here. */
  readonly lastSeen: number | null;
}

/** Whether a worker runs against this database at `now`, and when one was last seen. */
export async function workerLiveness(k: K, now: number): Promise<WorkerLiveness> {
  const rows = await k.selectFrom('worker_heartbeats').select(['last_seen_at', 'beat_ms']).execute();
  let lastSeen: number | null = null;
  let running = false;
  for (const r of rows) {
    const seen = Number(r.last_seen_at);
    if (lastSeen === null || seen > lastSeen) lastSeen = seen;
    if (seen >= now - Math.max(WORKER_GONE_AFTER.beats * Number(r.beat_ms), WORKER_GONE_AFTER.minMs)) running = true;
  }
  return { running, lastSeen };
}

/** The tenant's Pending requests that a worker would take at `dueBy` (NotBefore passed, migration enabled for the tenant). */
export async function countDuePending(k: K, tenantId: string, dueBy: number): Promise<number> {
  const r = await k.selectFrom('migration_requests as r')
    .innerJoin('tenants as t', 't.id', 'r.tenant_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('r.tenant_id', '=', tenantId)
    .where('r.state', '=', 'Pending')
    .where('r.not_before', '<=', dueBy)
    .where('t.meeting_migration_enabled', '=', 1)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** How many of the given requests of the tenant are still Pending (those a command just queued, whatever their NotBefore). */
export async function countPending(k: K, tenantId: string, correlationIds: readonly string[]): Promise<number> {
  let n = 0;
  for (const ids of chunks(correlationIds)) {
    const r = await k.selectFrom('migration_requests')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('state', '=', 'Pending')
      .where('id', 'in', ids)
      .executeTakeFirst();
    n += Number(r?.n ?? 0);
  }
  return n;
}
