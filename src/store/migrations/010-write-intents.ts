import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Writes begun on a remote mailbox store (CalDAV) and not yet recorded (issue 8 §4). No transaction spans a PUT to a
 * calendar server and our database, so before the PUT the engine records its intent here (the meeting, where it is,
 * and what the ledger row will need); the row is deleted in the transaction that records the ledger row and the
 * notifications. A row still here when the user is migrated again means a worker died in between: the object on
 * the server says whether the PUT happened, by carrying this intent's own marker (a value new for each intent, so a
 * marker left by an earlier, recorded write never passes for this one).
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema.createTable('write_intents')
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('uid', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('marker', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addPrimaryKeyConstraint('write_intents_pk', ['correlation_id', 'uid'])
    .execute();
}
