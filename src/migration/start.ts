import type { Db } from '../store/index.js';
import type { Tenant } from '../domain/directory.js';
import { conflict, MmsError } from '../domain/errors.js';
import { insertAudit } from '../store/audit-repo.js';
import { getTenant, requireUser } from '../store/directory-repo.js';
import { enqueueMigration } from '../store/requests-repo.js';
import { writeTransaction } from '../store/transaction.js';
import { meetingTypeScope, type MigrationType } from '../domain/migration.js';
import { typeNote } from '../domain/trigger-rules.js';

export type StartResult =
  | {
    readonly identity: string; readonly status: 'Queued'; readonly correlationId: string; readonly userId: string; readonly coalesced: boolean; readonly note: string;
    /** The request's MigrationType after this start (merged with a Pending request's, see mergeMigrationTypes). */
    readonly migrationType: MigrationType;
  }
  | { readonly identity: string; readonly status: 'Failed'; readonly reason: string };

/**
 * Start-CsExMeetingMigration: queues users now, without the trigger delay — the admin's explicit request, so
 * AutomaticallyMigrateUserMeetings and the provider do not gate it. A user whose mailbox is on-premises is
 * refused (MMS cannot reach it); one bad identity does not stop the others. `migrationType` (-SourceMeetingType,
 * -TargetMeetingType; default ToSameType) is queued as given: MeetingMigrationSourceMeetingTypes and
 * MeetingMigrationTargetMeetingTypes narrow automatic migrations only, never an admin's explicit request.
 */
export async function startMigration(
  db: Db, tenant: Tenant, identities: readonly string[], ctx: { actor: string; now: () => number }, migrationType: MigrationType = 'ToSameType',
): Promise<StartResult[]> {
  const results: StartResult[] = [];
  for (const identity of identities) {
    try {
      results.push(await writeTransaction(db, async (tx) => {
        const user = await requireUser(tx, tenant.id, identity);
        if (user.mailboxLocation !== 'Online') {
          throw conflict(`the mailbox of ${user.upn} is on-premises, out of MMS's reach: use manual migration (Invoke-MmsMeetingMigrationTool -Identity ${user.upn} -InputPath <exported .ics> -OutputPath <rewritten .ics>) or move the mailbox online first`);
        }
        if (meetingTypeScope(migrationType).target === 'Teams') {
          // The conversion's own preconditions (the trigger rules refuse the same): not a tenant restriction.
          if (user.hostedOn !== 'Online') throw conflict(`${user.upn} is homed on-premises: only online users' meetings are converted to Teams; Move-CsUser -Identity ${user.upn} -Target Online -MoveToTeams moves and converts them`);
          if (user.acProvider === 'ThirdParty') throw conflict(`${user.upn} uses the third-party audio conferencing provider ${user.acp?.name ?? ''}: MMS does not convert these meetings to Teams; move the user to Microsoft audio conferencing first (Enable-CsOnlineDialInConferencingUser -Identity ${user.upn} -ReplaceProvider) or recreate them as Teams meetings`);
        }
        const now = ctx.now();
        const t = (await getTenant(tx, tenant.id)) as Tenant;
        const note = t.settings.meetingMigrationEnabled ? 'runs as soon as a worker is free' : 'waits: MeetingMigrationEnabled is false; turn it on with Set-CsTenantMigrationConfiguration -MeetingMigrationEnabled true';
        const r = await enqueueMigration(tx, { tenantId: tenant.id, userId: user.id, reason: 'ManualStart', now, notBefore: now, migrationType });
        await insertAudit(tx, {
          tenantId: tenant.id, at: now, actor: ctx.actor, cmdlet: 'Start-CsExMeetingMigration', userId: user.id, target: user.upn,
          changes: {}, decision: 'Migrate', reason: `${typeNote(`queued by the admin; ${note}`, migrationType, r)}${r.coalesced ? ' (merged into the Pending request)' : ''}`, correlationId: r.correlationId,
        });
        return { identity, status: 'Queued' as const, correlationId: r.correlationId, userId: user.id, coalesced: r.coalesced, note, migrationType: r.migrationType };
      }));
    } catch (err) {
      if (!(err instanceof MmsError) || err.code === 'Transient') throw err;
      results.push({ identity, status: 'Failed', reason: err.message });
    }
  }
  return results;
}
