import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * One row per running `mms serve` worker (issue 9 §3), written by the worker at most once per poll interval and
 * deleted when it stops cleanly. A command that finds requests waiting past their NotBefore reads the newest
 * `last_seen_at` to tell the admin that no worker runs (since when, or ever) and how to start one. A worker that
 * died leaves its row behind: its `last_seen_at` is exactly "the last time a worker was seen".
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema.createTable('worker_heartbeats')
    .addColumn('id', 'text', (c) => c.primaryKey()) // the worker id its log lines carry (host:pid:random)
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('started_at', big, (c) => c.notNull())
    .addColumn('last_seen_at', big, (c) => c.notNull())
    // How often this worker beats (ms): a reader allows it three beats (and at least a minute) before calling it gone.
    .addColumn('beat_ms', 'integer', (c) => c.notNull())
    .execute();
}
