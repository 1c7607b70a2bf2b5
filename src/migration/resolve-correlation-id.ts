// A CorrelationId as an admin types it (issue 9 §3): the whole GUID, or an unambiguous prefix of 8 or more of its
// characters, as `-Wait` prints it — like git's abbreviated hashes. Every cmdlet and API that takes a CorrelationId
// resolves it here, against the tenant's own migrations (other tenants' ids are neither found nor counted).
import { sql } from 'kysely';
import type { Db } from '../store/index.js';
import type { Tenant } from '../domain/directory.js';
import { isCorrelationIdForm } from '../domain/correlation-id.js';
import { notFound, usageError } from '../domain/errors.js';

/** How many matches an "ambiguous" error lists. */
const LISTED = 4;

/** Characters of a whole CorrelationId (a GUID with its dashes). */
const WHOLE = 36;

/**
 * The full CorrelationId that `text` names in `tenant`. Case does not matter (ids are stored as randomUUID writes
 * them, lower case; the match compares lower-cased text on both databases). A whole GUID is taken as given, with
 * no lookup: a filter by it lists whatever carries it (a Meeting Migration Tool run has ledger rows but no request),
 * and Undo says itself when no migration has it. A prefix is resolved against the tenant's migration requests (what
 * Get-CsMeetingMigrationStatus and -Wait show). Throws a usage error (exit 2) for text that is no CorrelationId or a
 * prefix that starts several, listing some, and NotFound for a prefix that starts none.
 */
export async function resolveCorrelationId(db: Db, tenant: Tenant, text: string): Promise<string> {
  const v = text.trim().toLowerCase();
  if (!isCorrelationIdForm(v)) {
    throw usageError(`-CorrelationId ${JSON.stringify(text.slice(0, 40))} is not a CorrelationId: give the GUID Get-CsMeetingMigrationStatus shows or its first 8 or more characters`);
  }
  if (v.length === WHOLE) return v;
  // substr/lower rather than LIKE: LIKE ignores case on SQLite only. The length is ours (8..36), inlined.
  const prefix = sql<string>`lower(substr(${sql.ref('id')}, 1, ${sql.lit(v.length)}))`;
  const hits = await db.kysely.selectFrom('migration_requests').select('id')
    .where('tenant_id', '=', tenant.id).where(prefix, '=', v).orderBy('id').limit(LISTED + 1).execute();
  if (hits.length === 1) return hits[0]!.id;
  if (hits.length === 0) throw notFound(`no migration ${v} in tenant ${tenant.name}: Get-CsMeetingMigrationStatus lists CorrelationIds`);
  const listed = hits.slice(0, LISTED).map((h) => h.id).join(', ');
  const count = hits.length > LISTED ? `more than ${LISTED}` : String(hits.length);
  throw usageError(`-CorrelationId ${v} is ambiguous: ${count} migrations start with it (${listed}${hits.length > LISTED ? ', …' : ''}); give more of its characters`);
}
