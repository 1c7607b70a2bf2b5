import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Web sign-in (issue 10 §2): local admin accounts and their browser sessions.
 * - `admin_accounts`: a scrypt hash of the password (null until the admin sets it from the one-time link), the
 *   SHA-256 of that link's code and its expiry (cleared when used); `tenant_id` null only for ServiceAdmin.
 * - `web_sessions`: keyed by the SHA-256 of the cookie's 256-bit secret (the cookie itself is kept nowhere), with
 *   the times the idle and absolute timeouts are measured from; `ended_at` is set by sign-out and removal.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema.createTable('admin_accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('user_name_key', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.references('tenants.id'))
    .addColumn('password_hash', 'text')
    .addColumn('setup_code_sha256', 'text')
    .addColumn('setup_expires_at', big)
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('last_sign_in_at', big)
    .execute();
  await db.schema.createIndex('admin_accounts_name').unique().on('admin_accounts').columns(['user_name_key']).execute();
  await db.schema.createIndex('admin_accounts_setup').on('admin_accounts').columns(['setup_code_sha256']).execute();
  await db.schema.createTable('web_sessions')
    .addColumn('id_sha256', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('admin_accounts.id'))
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('last_seen_at', big, (c) => c.notNull())
    .addColumn('ended_at', big)
    .execute();
  await db.schema.createIndex('web_sessions_account').on('web_sessions').columns(['account_id']).execute();
}
