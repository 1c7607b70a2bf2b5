import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Who holds an outbox message's lease (issue 8 §3, as migration 005 did for the queue): the host name, pid and
 * process start time of the sender's process (see store/lease-holder.ts). A sender takes back at once the
 * `Sending` messages of processes on its own host that no longer run, instead of waiting a whole MMS_LEASE after
 * a crash; leases of other hosts still wait for expiry. Rows claimed before this migration have no holder and are
 * judged by expiry only.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('lease_host', 'text').execute();
  await db.schema.alterTable('outbox').addColumn('lease_pid', 'integer').execute();
  await db.schema.alterTable('outbox').addColumn('lease_pid_start', 'text').execute();
}
