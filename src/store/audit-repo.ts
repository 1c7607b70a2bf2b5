import { sql, type Kysely } from 'kysely';
import type { AuditTable, Database } from './schema.js';

type K = Kysely<Database>;

export interface AuditEntry {
  readonly tenantId: string;
  readonly at: number;
  readonly actor: string;
  readonly cmdlet: string;
  readonly userId: string | null;
  readonly target: string;
  /** Field → [before, after]; old dial-in values stay readable here after a provider switch. */
  readonly changes: Record<string, readonly [unknown, unknown]>;
  readonly decision: AuditTable['decision'];
  readonly reason: string;
  readonly correlationId: string | null;
}

export async function insertAudit(k: K, e: AuditEntry): Promise<void> {
  await k.insertInto('audit_log').values({
    tenant_id: e.tenantId,
    at: e.at,
    actor: e.actor,
    cmdlet: e.cmdlet,
    user_id: e.userId,
    target: e.target,
    changes: JSON.stringify(e.changes),
    decision: e.decision,
    reason: e.reason,
    correlation_id: e.correlationId,
  }).execute();
}

/**
 * Audit rows oldest first: `limit` of them after skipping `offset` (all without `limit`), and the true total
 * counted by the database.
 */
/**
 * The `changes` of one user's audit rows that changed `key`, oldest first. Only those rows are read (a text filter on
 * the stored JSON, checked again after parsing): a migration asks this of every user it runs for.
 */
export async function auditChangesOf(k: K, tenantId: string, userId: string, key: string): Promise<Array<AuditEntry['changes']>> {
  const rows = await k.selectFrom('audit_log').select('changes').where('tenant_id', '=', tenantId).where('user_id', '=', userId)
    .where('changes', 'like', `%${JSON.stringify(key)}%`).orderBy('at').orderBy('id').execute();
  return rows.map((r) => JSON.parse(r.changes) as AuditEntry['changes']).filter((c) => key in c);
}

export async function listAudit(
  k: K,
  tenantId: string,
  filter: { userId?: string; actor?: string; start?: number; end?: number; limit?: number; offset?: number },
): Promise<{ rows: (AuditEntry & { id: number })[]; total: number }> {
  const filtered = () => {
    let q = k.selectFrom('audit_log').where('tenant_id', '=', tenantId);
    if (filter.userId) q = q.where('user_id', '=', filter.userId);
    // The actor as the Actor column shows it (web:admin, api:ci), in any case: admins type it from memory. Both sides
    // folded by the database's own lower() (SQLite folds ASCII only; JavaScript's toLowerCase on one side would make
    // a non-ASCII name miss even when typed exactly as stored).
    if (filter.actor !== undefined) q = q.where(sql<string>`lower(actor)`, '=', sql<string>`lower(${filter.actor})`);
    if (filter.start !== undefined) q = q.where('at', '>=', filter.start);
    if (filter.end !== undefined) q = q.where('at', '<=', filter.end);
    return q;
  };
  let q = filtered().selectAll().orderBy('at').orderBy('id');
  if (filter.limit !== undefined) q = q.limit(filter.limit).offset(filter.offset ?? 0);
  else if (filter.offset) q = q.limit(Number.MAX_SAFE_INTEGER).offset(filter.offset);
  const rows = await q.execute();
  const total = Number((await filtered().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
  return {
    total,
    rows: rows.map((r) => ({
      id: Number(r.id),
      tenantId: r.tenant_id,
      at: r.at,
      actor: r.actor,
      cmdlet: r.cmdlet,
      userId: r.user_id,
      target: r.target,
      changes: JSON.parse(r.changes) as AuditEntry['changes'],
      decision: r.decision,
      reason: r.reason,
      correlationId: r.correlation_id,
    })),
  };
}
