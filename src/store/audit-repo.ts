import type { Kysely } from 'kysely';
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

export async function listAudit(
  k: K,
  tenantId: string,
  filter: { userId?: string; start?: number; end?: number; limit?: number },
): Promise<(AuditEntry & { id: number })[]> {
  let q = k.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenantId);
  if (filter.userId) q = q.where('user_id', '=', filter.userId);
  if (filter.start !== undefined) q = q.where('at', '>=', filter.start);
  if (filter.end !== undefined) q = q.where('at', '<=', filter.end);
  const rows = await q.orderBy('at').orderBy('id').limit(filter.limit ?? 10_000).execute();
  return rows.map((r) => ({
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
  }));
}
