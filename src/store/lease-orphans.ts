import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.js';
import { holderIsGone, type LeaseHolder } from './lease-holder.js';

/** A table whose rows are leased with the holder columns of lease-holder.ts, and the state a held row is in. */
export type LeasedTable = { readonly table: 'migration_requests'; readonly held: 'InProgress' } | { readonly table: 'outbox'; readonly held: 'Sending' };

/**
 * Ends at once the leases held by processes on this host that no longer run (killed, crashed, or their pid now
 * belongs to another process): they are set to have just expired, so the claim that follows in the same
 * transaction takes the rows back — counted as an attempt, exactly as after an expiry — without waiting a whole
 * lease. Cheap enough for every claim: it reads only this host's held rows with a live lease (a few at most) and
 * looks each holder up in /proc. Leases of other hosts are left to expire. Shared by the migration queue
 * (issue 7 §2) and the SMTP outbox (issue 8 §3). Returns the ids taken back.
 */
export async function expireLocalOrphans(tx: Kysely<Database>, leased: LeasedTable, clock: RawBuilder<number>, me: LeaseHolder): Promise<Array<string | number>> {
  const table = sql.table(leased.table);
  // One lock order for every process (PostgreSQL): two claims expiring the same rows cannot deadlock.
  const held = await sql<{ id: string | number; lease_owner: string | null; lease_pid: number | null; lease_pid_start: string | null }>`
    select id, lease_owner, lease_pid, lease_pid_start from ${table}
    where state = ${leased.held} and lease_host = ${me.host} and lease_expires_at >= ${clock}
    order by id`.execute(tx);
  const gone: Array<string | number> = [];
  for (const r of held.rows) {
    if (r.lease_pid == null || r.lease_pid_start == null || r.lease_owner === null) continue;
    if (!holderIsGone({ host: me.host, pid: Number(r.lease_pid), start: r.lease_pid_start }, me)) continue;
    // Only if still held by that dead process: another process may have taken it over since we read it.
    const u = await sql`
      update ${table} set lease_expires_at = ${clock} - 1
      where id = ${r.id} and state = ${leased.held} and lease_owner = ${r.lease_owner}
        and lease_pid = ${Number(r.lease_pid)} and lease_pid_start = ${r.lease_pid_start}`.execute(tx);
    if (Number(u.numAffectedRows ?? 0) > 0) gone.push(r.id);
  }
  return gone;
}
