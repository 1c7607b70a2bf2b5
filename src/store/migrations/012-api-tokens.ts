import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * REST API tokens (issue 10 §2). Only a SHA-256 of the token's secret is stored: the secret is 256 random bits,
 * so a slow password hash would add nothing but latency to every request. `tenant_id` is null for ServiceAdmin
 * tokens (they act on any tenant). Names are unique within a tenant (`scope`: the tenant's id, `*` for ServiceAdmin
 * tokens), not across tenants: one tenant must not learn from a refused name which names another one uses.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema.createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.references('tenants.id'))
    .addColumn('secret_sha256', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('expires_at', big)
    .addColumn('revoked_at', big)
    .addColumn('last_used_at', big)
    .execute();
  await db.schema.createIndex('api_tokens_name').unique().on('api_tokens').columns(['scope', 'name_key']).execute();
}
