import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Mailbox hosts (issue 8 §1): the calendar servers users' mailboxes live on, and which user's mailbox is on which.
 * Passwords are stored sealed (AES-256-GCM, src/secrets/), never in the clear.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema.createTable('mailbox_hosts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull()) // lower case: names are unique regardless of case
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('user_name', 'text')
    .addColumn('password_sealed', 'text')
    .addColumn('max_concurrency', 'integer', (c) => c.notNull())
    .addColumn('principal_url_template', 'text')
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('modified_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mailbox_hosts_name').unique().on('mailbox_hosts').columns(['tenant_id', 'name_key']).execute();
  await db.schema.createTable('user_mailboxes')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('host_id', 'text', (c) => c.notNull().references('mailbox_hosts.id'))
    .addColumn('calendar_url', 'text')
    .addColumn('user_name', 'text')
    .addColumn('password_sealed', 'text')
    .addColumn('modified_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('user_mailboxes_host').on('user_mailboxes').columns(['host_id']).execute();
}
