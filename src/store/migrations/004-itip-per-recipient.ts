import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * iTIP per recipient (RFC 5546 §3.2.2): a changed meeting may need several iMIP messages — an attendee of one
 * occurrence gets that occurrence only — so a message is named by its component set (`variant`, '' for the whole
 * meeting, what every message stored before this migration was). Exactly once still holds per message:
 * one row per (migration, meeting, variant).
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('outbox_messages').addColumn('variant', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.dropIndex('outbox_messages_once').execute();
  await db.schema.createIndex('outbox_messages_once').unique().on('outbox_messages').columns(['correlation_id', 'uid', 'variant']).execute();
}
