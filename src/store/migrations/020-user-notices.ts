import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Emails to users about their own dial-in settings (issue 12 §3). `tenants.automatically_send_emails_to_users` is
 * the reference's AutomaticallySendEmailsToUsers (default true, so existing tenants get it on). The emails travel
 * the outbox like iMIP messages (same claim, lease, retry and exactly-once rules): `outbox.kind` tells them apart
 * ('Meeting' for every row before this migration), and `outbox_messages.notice` holds a notice's content as JSON
 * (the leader PIN in it sealed with the secret key, and removed once the message is Sent).
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('tenants').addColumn('automatically_send_emails_to_users', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('outbox').addColumn('kind', 'text', (c) => c.notNull().defaultTo('Meeting')).execute();
  await db.schema.alterTable('outbox_messages').addColumn('notice', 'text').execute();
  // Get-MmsOutbox -Kind UserNotice of a tenant, oldest first.
  await db.schema.createIndex('outbox_kind').on('outbox').columns(['tenant_id', 'kind', 'id']).execute();
}
