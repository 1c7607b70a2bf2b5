import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * The migration engine's records: a ledger row per meeting a migration looked at (the transaction history, and
 * what undo needs), the notifications it sent, and each worker attempt (who held a request, when).
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';

  // A migration notifies every attendee: keep their addresses beside the object instead of parsing it again.
  await db.schema.alterTable('calendar_objects').addColumn('attendees', 'text', (c) => c.notNull().defaultTo('[]')).execute();

  await db.schema.createTable('migration_meetings')
    .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('uid', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('start_time', big)
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('attendees_notified', 'integer', (c) => c.notNull())
    .addColumn('at', big, (c) => c.notNull())
    .addColumn('version_written', 'integer')
    .addColumn('previous_block', 'text')
    .execute();
  // One row per meeting per migration: a re-run after a crash updates it instead of adding a second.
  await db.schema.createIndex('migration_meetings_once').unique().on('migration_meetings').columns(['correlation_id', 'uid']).execute();
  await db.schema.createIndex('migration_meetings_user').on('migration_meetings').columns(['user_id', 'at']).execute();

  await db.schema.createTable('outbox')
    .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('organizer_id', 'text', (c) => c.notNull())
    .addColumn('uid', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('internal', 'integer', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('message_id', big)
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('sent_at', big)
    .addColumn('last_error', 'text')
    .execute();
  // Exactly one notification per attendee per changed meeting per migration, enforced by the database too.
  await db.schema.createIndex('outbox_once').unique().on('outbox').columns(['correlation_id', 'uid', 'recipient']).execute();
  await db.schema.createIndex('outbox_state').on('outbox').columns(['tenant_id', 'state', 'created_at']).execute();

  // The iMIP message body is stored once per changed meeting and shared by its external recipients.
  await db.schema.createTable('outbox_messages')
    .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('uid', 'text', (c) => c.notNull())
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('sender_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('ics', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('outbox_messages_once').unique().on('outbox_messages').columns(['correlation_id', 'uid']).execute();

  await db.schema.createTable('migration_attempts')
    .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('worker_id', 'text', (c) => c.notNull())
    .addColumn('started_at', big, (c) => c.notNull())
    .addColumn('ended_at', big)
    .addColumn('outcome', 'text')
    .execute();
  await db.schema.createIndex('migration_attempts_request').on('migration_attempts').columns(['correlation_id']).execute();
}
