import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Damaged attendee copies (issue 7 §3): when an internal attendee's own copy no longer parses, the migration (or
 * undo) that replaces it records that here — which attendee, why, what it carried over — and keeps the damaged
 * text, so the transaction history shows it and an undo can put the attendee's text back. One row per
 * (migration, meeting, attendee): a re-run after a crash overwrites it instead of adding a second.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
  await db.schema.createTable('attendee_copy_damage')
    .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('uid', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('start_time', big)
    .addColumn('attendee_id', 'text', (c) => c.notNull())
    .addColumn('attendee', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('damaged_ics', 'text', (c) => c.notNull())
    .addColumn('version_written', 'integer')
    .addColumn('at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('attendee_copy_damage_once').unique().on('attendee_copy_damage').columns(['correlation_id', 'uid', 'attendee_id']).execute();
  await db.schema.createIndex('attendee_copy_damage_user').on('attendee_copy_damage').columns(['user_id', 'at']).execute();
}
