/**
 * The tables without a `tenant_id`, and why (issue 13 §4, docs/SCALING.md). Every other table carries the tenant
 * so that a distributed PostgreSQL (Citus) can shard it by tenant, with each tenant's rows on one node; these are
 * the control plane, small and read before any tenant is known. On Citus `tenants` becomes a reference table (a copy
 * on every node, so the tenant tables' joins with it stay on their shard) and the others, joined with nothing, stay
 * on the coordinator (docs/SCALING.md §4). test/tenant-columns.test.ts reads the live schema on both databases and
 * fails for any other table that lacks the column: a new table cannot forget it.
 */
export const GLOBAL_TABLES: Readonly<Record<string, string>> = {
  tenants: 'the tenant itself: its id is the tenant id; joined by the claim and by every settings read',
  api_tokens: 'found by the hash of a bearer secret before the tenant is known; a ServiceAdmin token has no tenant',
  admin_accounts: 'found by sign-in name before the tenant is known; a ServiceAdmin account has no tenant',
  web_sessions: 'found by the hash of the session cookie before the tenant is known; belongs to an admin account',
  worker_heartbeats: 'one row per worker process, and a worker serves every tenant',
  telemetry_key_check: 'one fingerprint of the service\'s telemetry key, which every tenant\'s pseudonyms are made with',
  mms_schema_migrations: 'which schema migrations ran: one list for the whole database',
};
