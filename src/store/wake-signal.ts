import { EventEmitter } from 'node:events';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { afterCommit, isPostgres, transactionOf } from './transaction.js';

/**
 * The PostgreSQL channel a queue change is announced on (LISTENed to by wake-listener.ts). Channels are
 * database-wide, so it names the schema too (hashed, to stay within the 63 bytes a channel name may have): MMS
 * installations in other schemas of the same database (the tests' and the bench's) do not wake each other.
 */
export const queueChannel = sql<string>`'mms_queue_' || left(md5(current_schema()), 12)`;

// One per process: a worker in this process (mms serve) hears the REST API's and admin center's triggers here.
// It carries no database identity: a process with two databases open wakes its workers for both, and each one
// reads its own queue and goes back to sleep (a spurious wake costs one read).
const local = new EventEmitter();
local.setMaxListeners(0);

const notified = new WeakSet<object>();

/**
 * Announces that a migration request was queued, its `not_before` moved or its tenant's MeetingMigrationEnabled was
 * turned on, so that an idle worker sleeping until the earliest runnable request (worker.ts) reads the queue again
 * instead of waiting out its poll interval. Call it inside the transaction that made the change: on PostgreSQL it
 * sends `pg_notify`, which the server delivers at commit (and drops on rollback, e.g. -WhatIf); in this process
 * listeners hear it once the transaction committed.
 */
export async function queueChanged(tx: Kysely<Database>): Promise<void> {
  // Once per transaction: a tenant-wide trigger queues thousands of requests in one, and one notification tells all.
  const t = transactionOf(tx);
  if (t) {
    if (notified.has(t)) return;
    notified.add(t);
  }
  if (isPostgres(tx)) await sql`select pg_notify(${queueChannel}, '')`.execute(tx);
  afterCommit(tx, () => local.emit('changed'));
}

/** Calls `fn` after each commit in this process that changed the queue (see queueChanged); returns the unsubscribe. */
export function onLocalQueueChange(fn: () => void): () => void {
  local.on('changed', fn);
  return () => local.off('changed', fn);
}
