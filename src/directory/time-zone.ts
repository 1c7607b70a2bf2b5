// Time zones of users and tenants: floating meeting times (no TZID, no Z) are read in the organizer's zone.
import type { Tenant, User } from '../domain/directory.js';
import { usageError } from '../domain/errors.js';
import { ianaZoneOf } from '../ical/index.js';
import { BuiltinMailboxStore } from '../mailbox/index.js';
import { insertAudit } from '../store/audit-repo.js';
import { getTenant, requireUser } from '../store/directory-repo.js';
import { writeTransaction, type Tx } from '../store/transaction.js';
import type { ChangeOutcome } from './apply-change.js';
import type { DirectoryContext } from './context.js';
import { addressesOf } from '../meetings/index.js';

/**
 * A -TimeZone value as stored: the IANA zone of an IANA name (any letter case) or of a Windows name such as
 * Pacific Standard Time (CLDR windowsZones). Anything else is a usage error that says what to write.
 */
export function checkTimeZone(value: string): string {
  const iana = ianaZoneOf(value);
  if (!iana) {
    throw usageError(`TimeZone '${value}' is not a time zone MMS knows: give an IANA name such as America/Los_Angeles or a Windows name such as "Pacific Standard Time"`);
  }
  return iana;
}

/**
 * Derives again, inside the caller's transaction, the times of stored meetings whose floating times a zone
 * change moved (see BuiltinMailboxStore.rederiveFloating). Returns how many meetings got new times.
 */
export function rederiveAfterZoneChange(tx: Tx, tenantId: string, now: number, scope: { user: User } | 'tenant'): Promise<number> {
  const store = new BuiltinMailboxStore(tx, tenantId, () => now);
  return store.rederiveFloating(scope === 'tenant' ? 'tenant' : { addresses: addressesOf(scope.user), mailboxUserId: scope.user.id });
}

const shown = (zone: string | null, tenant: Tenant): string => zone ?? `the tenant's (${tenant.settings.timeZone})`;

/**
 * Set-CsUser -TimeZone: the zone the user's floating meeting times are read in. Not a migration trigger (the
 * online meeting block does not depend on it); the stored meetings' times are derived again in the same
 * transaction, so the next migration cuts past from future with the new zone.
 */
export async function setUserTimeZone(ctx: DirectoryContext, tenantId: string, identity: string, timeZone: string): Promise<ChangeOutcome> {
  const zone = checkTimeZone(timeZone);
  return writeTransaction(ctx.db, async (tx) => {
    const tenant = await getTenant(tx, tenantId);
    if (!tenant) throw usageError(`tenant ${tenantId} no longer exists`);
    const before = await requireUser(tx, tenant.id, identity);
    const after: User = { ...before, timeZone: zone };
    const now = ctx.now();
    let reason = `time zone unchanged (${zone}); nothing to do`;
    if (before.timeZone !== zone) {
      await tx.updateTable('users').set({ time_zone: zone, modified_at: now }).where('id', '=', before.id).execute();
      const n = await rederiveAfterZoneChange(tx, tenant.id, now, { user: after });
      reason = `time zone changed; the times of ${n} stored meeting(s) with floating times were derived again; a time zone change does not migrate meetings (the online meeting block does not depend on it)`;
      await insertAudit(tx, {
        tenantId: tenant.id, at: now, actor: ctx.actor, cmdlet: 'Set-CsUser', userId: before.id, target: before.upn,
        changes: { timeZone: [shown(before.timeZone, tenant), zone] }, decision: 'None', reason, correlationId: null,
      });
    }
    return { user: after, decision: { migrate: false, reason, kind: null }, correlationId: null, coalesced: false };
  });
}
