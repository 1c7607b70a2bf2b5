import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type K = Kysely<Database>;

/**
 * The subjects of the meetings that outbox rows notify about, from the migration's ledger (one row per migration and
 * meeting): keyed `correlationId \0 uid`. The ledger has the subject as the migration saw it; a row whose ledger
 * entry was pruned (MMS_HISTORY_DAYS) has none.
 */
export async function meetingSubjects(k: K, tenantId: string, keys: ReadonlyArray<{ correlationId: string; uid: string }>): Promise<Map<string, string>> {
  const byCorrelation = new Map<string, Set<string>>();
  for (const { correlationId, uid } of keys) {
    const uids = byCorrelation.get(correlationId) ?? new Set<string>();
    uids.add(uid);
    byCorrelation.set(correlationId, uids);
  }
  const out = new Map<string, string>();
  for (const [correlationId, set] of byCorrelation) {
    const uids = [...set];
    // 5000 uids a statement stay under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
    for (let i = 0; i < uids.length; i += 5000) {
      const rows = await k.selectFrom('migration_meetings').select(['uid', 'subject'])
        .where('tenant_id', '=', tenantId).where('correlation_id', '=', correlationId).where('uid', 'in', uids.slice(i, i + 5000)).execute();
      for (const r of rows) out.set(`${correlationId}\u0000${r.uid}`, r.subject);
    }
  }
  return out;
}

/** One outbox row of the tenant with its stored iMIP message (none for an internal copy) and the meeting's subject. */
export async function outboxEntry(k: K, tenantId: string, id: number) {
  return k.selectFrom('outbox as o')
    .leftJoin('outbox_messages as m', 'm.id', 'o.message_id')
    .leftJoin('migration_meetings as mm', (j) => j.onRef('mm.correlation_id', '=', 'o.correlation_id').onRef('mm.uid', '=', 'o.uid'))
    .select([
      'o.id', 'o.correlation_id', 'o.organizer_id', 'o.uid', 'o.recipient', 'o.internal', 'o.method', 'o.state', 'o.created_at', 'o.sent_at',
      'o.attempts', 'o.last_reply', 'm.from_address', 'm.sender_address', 'm.subject as mail_subject', 'm.ics', 'mm.subject',
    ])
    .where('o.tenant_id', '=', tenantId)
    .where('o.id', '=', id)
    .executeTakeFirst();
}
