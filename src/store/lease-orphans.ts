import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Db } from './db.js';
import type { Database } from './schema.js';
import { holderIsGone, type LeaseHolder } from './lease-holder.js';

/**
 * The clock leases are read and written with. On PostgreSQL many processes on many machines share a table, so
 * the database's clock decides when a lease has expired (one whose clock runs ahead must not take a live lease
 * over); SQLite has one machine, whose clock its processes share.
 */
export function leaseClock(db: Db, now: number): RawBuilder<number> {
  return db.dialect === 'postgres' ? sql<number>`(extract(epoch from now()) * 1000)::bigint` : sql<number>`${now}`;
}

/** A table whose rows are leased with the holder columns of lease-holder.ts, and the state a held row is in. */
export type LeasedTable = { readonly table: 'migration_requests'; readonly held: 'InProgress' } | { readonly table: 'outbox'; readonly held: 'Sending' };

/**
 * Ends at once the leases held by processes on this host that no longer run (killed, crashed, or their pid now
 * belongs to another process): they are set to have just expired, so the claim that follows in the same
 * transaction takes the rows back — counted as an attempt, exactly as after an expiry — without waiting a whole
 * lease. Cheap enough for every claim: it reads only this host's held rows with a live lease (a few at most) and
 * looks each holder up in /proc. Leases of other hosts are left to expire. Shared by the migration queue
 * (issue 7 §2) and the SMTP outbox (issue 8 §3).
 *
 * A claimer calls this only when it holds nothing, so a live lease still in its own name (`ownerId`) is an orphan
 * too: the claim committed but its reply was lost with the connection (PostgreSQL). It is taken back the same way.
 */
export async function expireLocalOrphans(tx: Kysely<Database>, leased: LeasedTable, clock: RawBuilder<number>, me: LeaseHolder, ownerId: string): Promise<void> {
  const table = sql.table(leased.table);
  await sql`update ${table} set lease_expires_at = ${clock} - 1
    where state = ${leased.held} and lease_owner = ${ownerId} and lease_expires_at >= ${clock}`.execute(tx);
  // One lock order for every process (PostgreSQL): two claims expiring the same rows cannot deadlock.
  const held = await sql<{ id: string | number; lease_owner: string | null; lease_pid: number | null; lease_pid_start: string | null }>`
    select id, lease_owner, lease_pid, lease_pid_start from ${table}
    where state = ${leased.held} and lease_host = ${me.host} and lease_expires_at >= ${clock}
    order by id`.execute(tx);
  for (const r of held.rows) {
    if (r.lease_pid == null || r.lease_pid_start == null || r.lease_owner === null) continue;
    if (!holderIsGone({ host: me.host, pid: Number(r.lease_pid), start: r.lease_pid_start }, me)) continue;
    // Only if still held by that dead process: another process may have taken it over since we read it.
    await sql`
      update ${table} set lease_expires_at = ${clock} - 1
      where id = ${r.id} and state = ${leased.held} and lease_owner = ${r.lease_owner}
        and lease_pid = ${Number(r.lease_pid)} and lease_pid_start = ${r.lease_pid_start}`.execute(tx);
  }
}
