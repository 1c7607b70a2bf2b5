import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type K = Kysely<Database>;

export interface IntentRow {
  readonly correlationId: string;
  readonly uid: string;
  readonly ref: string;
  readonly payload: string;
  /** The value of the marker the write puts in the object, new for each intent. */
  readonly marker: string;
}

/** Records the intents of one batch before its remote writes (an intent for the same meeting is replaced). */
export async function recordIntents(k: K, who: { tenantId: string; userId: string }, rows: readonly IntentRow[], at: number): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    await k.insertInto('write_intents')
      .values(rows.slice(i, i + 200).map((r) => ({ correlation_id: r.correlationId, tenant_id: who.tenantId, user_id: who.userId, uid: r.uid, ref: r.ref, payload: r.payload, marker: r.marker, created_at: at })))
      .onConflict((oc) => oc.columns(['correlation_id', 'uid']).doUpdateSet({
        ref: (eb) => eb.ref('excluded.ref'), payload: (eb) => eb.ref('excluded.payload'), marker: (eb) => eb.ref('excluded.marker'), created_at: (eb) => eb.ref('excluded.created_at'),
      }))
      .execute();
  }
}

/** Every intent left for one user's mailbox, whichever migration wrote it (an earlier one may have ended Failed). */
export async function listIntents(k: K, tenantId: string, userId: string): Promise<IntentRow[]> {
  const rows = await k.selectFrom('write_intents').select(['correlation_id', 'uid', 'ref', 'payload', 'marker'])
    .where('tenant_id', '=', tenantId).where('user_id', '=', userId).orderBy('created_at').orderBy('uid').execute();
  return rows.map((r) => ({ correlationId: r.correlation_id, uid: r.uid, ref: r.ref, payload: r.payload, marker: r.marker }));
}

/**
 * Clears intents once their outcome is recorded (or known never to have happened); returns how many rows went, so
 * that a caller can tell whether another worker cleared (and recorded) them first.
 */
export async function clearIntents(k: K, keys: ReadonlyArray<{ correlationId: string; uid: string }>): Promise<number> {
  let n = 0;
  for (let i = 0; i < keys.length; i += 200) {
    const chunk = keys.slice(i, i + 200);
    const r = await k.deleteFrom('write_intents')
      .where((eb) => eb.or(chunk.map((c) => eb.and([eb('correlation_id', '=', c.correlationId), eb('uid', '=', c.uid)]))))
      .executeTakeFirst();
    n += Number(r.numDeletedRows);
  }
  return n;
}
