import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Who holds a lease (issue 7 §2): the host name, pid and process start time of the process that claimed the
 * request (see store/lease-holder.ts). A worker takes back at once the leases of processes on its own host that
 * no longer run, instead of waiting a whole MMS_LEASE after a crash; leases of other hosts still wait for expiry.
 * Rows claimed before this migration have no holder and are judged by expiry only.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('migration_requests').addColumn('lease_host', 'text').execute();
  await db.schema.alterTable('migration_requests').addColumn('lease_pid', 'integer').execute();
  await db.schema.alterTable('migration_requests').addColumn('lease_pid_start', 'text').execute();
}
