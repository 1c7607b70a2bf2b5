import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type K = Kysely<Database>;

export interface IntentRow {
  readonly uid: string;
  readonly ref: string;
  readonly payload: string;
}

/** Records the intents of one batch before its remote writes (an intent for the same meeting is replaced). */
export async function recordIntents(k: K, who: { correlationId: string; tenantId: string; userId: string }, rows: readonly IntentRow[], at: number): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    await k.insertInto('write_intents')
      .values(rows.slice(i, i + 200).map((r) => ({ correlation_id: who.correlationId, tenant_id: who.tenantId, user_id: who.userId, uid: r.uid, ref: r.ref, payload: r.payload, created_at: at })))
      .onConflict((oc) => oc.columns(['correlation_id', 'uid']).doUpdateSet({ ref: (eb) => eb.ref('excluded.ref'), payload: (eb) => eb.ref('excluded.payload'), created_at: (eb) => eb.ref('excluded.created_at') }))
      .execute();
  }
}

export async function listIntents(k: K, correlationId: string): Promise<IntentRow[]> {
  return k.selectFrom('write_intents').select(['uid', 'ref', 'payload']).where('correlation_id', '=', correlationId).orderBy('created_at').orderBy('uid').execute();
}

/** Clears intents once their outcome is recorded (or known never to have happened). */
export async function clearIntents(k: K, correlationId: string, uids: readonly string[]): Promise<void> {
  for (let i = 0; i < uids.length; i += 500) {
    await k.deleteFrom('write_intents').where('correlation_id', '=', correlationId).where('uid', 'in', uids.slice(i, i + 500)).execute();
  }
}
