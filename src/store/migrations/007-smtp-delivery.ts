import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Sending the outbox over SMTP (issue 8 §3): an external recipient's notification row is also its delivery job.
 * `attempts` counts claims (as the migration queue counts them, at the claim, so a sender that dies mid-send
 * still uses one up); `last_reply` keeps the server's last answer (the 250 of a sent message, the 4xx/5xx of a
 * refused one); `not_before` holds a 4xx retry back; `lease_owner`/`lease_expires_at` make a claim exclusive
 * while the message is `Sending`, so two senders never send one message and a dead sender's message is taken
 * over after the lease. Existing rows keep their state (Queued rows become sendable).
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema.alterTable('outbox').addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('outbox').addColumn('last_reply', 'text').execute();
  await db.schema.alterTable('outbox').addColumn('not_before', big).execute();
  await db.schema.alterTable('outbox').addColumn('lease_owner', 'text').execute();
  await db.schema.alterTable('outbox').addColumn('lease_expires_at', big).execute();
  // What a sender's claim reads: the sendable rows by state, oldest first.
  await db.schema.createIndex('outbox_sendable').on('outbox').columns(['state', 'internal', 'id']).execute();
}
