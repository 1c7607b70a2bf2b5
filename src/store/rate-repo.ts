// How fast migrations move meetings (the admin center's dashboard chart, Get-MmsMigrationRate): per time bucket,
// how many meetings a migration rewrote (history rows with action Updated). One statement for both databases:
// `at` is epoch ms in a bigint column, and integer division by the bucket width is the same in SQLite and PostgreSQL.
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface RateBucket {
  /** The bucket's start, epoch ms. */
  readonly start: number;
  readonly meetings: number;
}

/**
 * The tenant's migrated meetings per `bucketMs` in [start, end), oldest first; buckets with none are left out (the
 * caller fills them). `bucketMs` must be a positive whole number of ms (the cmdlet checks its parameter).
 */
export async function migratedMeetingsPerBucket(k: Kysely<Database>, tenantId: string, start: number, end: number, bucketMs: number): Promise<RateBucket[]> {
  if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new Error(`bucket width ${bucketMs} ms is not a positive whole number`);
  // The width as a literal, not a parameter: PostgreSQL must see the same expression in SELECT and GROUP BY.
  const width = sql.lit(bucketMs);
  const r = await sql<{ b: number | string; n: number | string }>`
    select at / ${width} as b, count(*) as n
    from migration_meetings
    where tenant_id = ${tenantId} and action = 'Updated' and at >= ${start} and at < ${end}
    group by at / ${width}
    order by b`.execute(k);
  return r.rows.map((row) => ({ start: Number(row.b) * bucketMs, meetings: Number(row.n) }));
}
