// What /metrics counts (issue 10 §1), read in one go per scrape: aggregate numbers over every tenant, no names.
import { sql } from 'kysely';
import type { Db } from './db.js';

export interface ServiceCounts {
  readonly requests: ReadonlyArray<{ state: string; count: number }>;
  /** Meetings in the migration history (kept MMS_HISTORY_DAYS) by action and reason code. */
  readonly meetings: ReadonlyArray<{ action: string; reason: string; count: number }>;
  readonly outbox: ReadonlyArray<{ state: string; internal: boolean; count: number }>;
  /** Pending requests whose NotBefore has passed, and the oldest such NotBefore (epoch ms). */
  readonly runnable: number;
  readonly oldestRunnableAt: number | null;
}

/** The code a history reason starts with ('PastMeeting: the meeting is over…' → 'PastMeeting'), else 'Other'. */
export function reasonCode(reason: string): string {
  const m = /^([A-Z][A-Za-z]+)(?=$|[:;])/.exec(reason);
  return m ? m[1]! : 'Other';
}

export async function serviceCounts(db: Db, now: number): Promise<ServiceCounts> {
  const k = db.kysely;
  const [requests, meetings, outbox, runnable] = await Promise.all([
    k.selectFrom('migration_requests').select(['state', (eb) => eb.fn.countAll<number>().as('count')]).groupBy('state').execute(),
    k.selectFrom('migration_meetings').select(['action', 'reason', (eb) => eb.fn.countAll<number>().as('count')]).groupBy(['action', 'reason']).execute(),
    k.selectFrom('outbox').select(['state', 'internal', (eb) => eb.fn.countAll<number>().as('count')]).groupBy(['state', 'internal']).execute(),
    k.selectFrom('migration_requests')
      .select([(eb) => eb.fn.countAll<number>().as('count'), sql<number | null>`min(not_before)`.as('oldest')])
      .where('state', '=', 'Pending').where('not_before', '<=', now)
      .executeTakeFirst(),
  ]);
  const byCode = new Map<string, { action: string; reason: string; count: number }>();
  for (const m of meetings) {
    const reason = reasonCode(m.reason);
    const key = `${m.action}\u0000${reason}`;
    const hit = byCode.get(key);
    if (hit) hit.count += Number(m.count);
    else byCode.set(key, { action: m.action, reason, count: Number(m.count) });
  }
  return {
    requests: requests.map((r) => ({ state: r.state, count: Number(r.count) })),
    meetings: [...byCode.values()],
    outbox: outbox.map((o) => ({ state: o.state, internal: o.internal === 1, count: Number(o.count) })),
    runnable: Number(runnable?.count ?? 0),
    oldestRunnableAt: runnable?.oldest == null ? null : Number(runnable.oldest),
  };
}
