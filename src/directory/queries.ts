import type { Db } from '../store/index.js';
import { hasAudioConferencingLicense, type Tenant } from '../domain/directory.js';
import { meetingTarget } from '../domain/meeting-target.js';
import { usageError } from '../domain/errors.js';
import { listAudit } from '../store/audit-repo.js';
import { showChanges } from './audit-view.js';
import { listBridges, listUsers, requireUser } from '../store/directory-repo.js';

/** An identity filter that was given must name someone: "" is not "every user" (leave the filter out for that). */
function checkIdentity(identity: string): string {
  if (!identity.trim()) throw usageError('Identity is empty: give a UPN or SIP address, e.g. ashaw@contoso.com, or leave it out to list every user');
  return identity;
}

/**
 * Get-CsOnlineDialInConferencingUser rows: the audio-conferencing information admins see, never the PIN.
 * `readyToMove` lists the users who hold the licence but are still on a third-party provider.
 */
export async function dialInUsers(db: Db, tenant: Tenant, filter: { identity?: string; readyToMove?: boolean } = {}) {
  const bridges = await listBridges(db.kysely, tenant.id);
  let users = await listUsers(db.kysely, tenant.id);
  if (filter.identity !== undefined) {
    users = [await requireUser(db.kysely, tenant.id, checkIdentity(filter.identity))];
  }
  if (filter.readyToMove) users = users.filter((u) => hasAudioConferencingLicense(u) && u.acProvider === 'ThirdParty');
  return users.map((u) => {
    const t = meetingTarget(u, tenant, bridges);
    const d = t.dialIn;
    return {
      Identity: u.upn,
      UserId: u.id,
      DisplayName: u.displayName,
      SipAddress: u.sipAddress,
      HostedOn: u.hostedOn,
      MailboxLocation: u.mailboxLocation,
      Licenses: u.licenses,
      Provider: u.acProvider === 'ThirdParty' ? u.acp?.name ?? 'ThirdParty' : u.acProvider === 'Microsoft' ? 'Microsoft' : '',
      AudioConferencingEnabled: u.acEnabled && u.acProvider !== 'None',
      BridgeName: d?.bridgeName ?? '',
      BridgeId: d?.bridgeId ?? '',
      ServiceNumber: d?.toll?.number ?? '',
      TollFreeServiceNumber: d?.tollFree?.number ?? '',
      ConferenceId: u.acProvider === 'ThirdParty' ? '' : u.conferenceId,
      ParticipantPasscode: u.acProvider === 'ThirdParty' ? u.acp?.participantPasscode ?? '' : '',
      PreferredLanguage: u.preferredLanguage,
      JoinUrlBase: t.joinUrlBase,
    };
  });
}

/** Get-MmsAuditLog rows, oldest first: who did what, what changed and what MMS decided, and why. */
export async function auditLog(db: Db, tenant: Tenant, filter: { identity?: string; actor?: string; start?: number; end?: number } = {}) {
  return (await auditLogPage(db, tenant, filter)).rows;
}

/** Get-MmsAuditLog rows, `first` of them after skipping `skip` (all without `first`), and the true total. */
export async function auditLogPage(db: Db, tenant: Tenant, filter: { identity?: string; actor?: string; start?: number; end?: number; first?: number; skip?: number } = {}) {
  let userId: string | undefined;
  if (filter.identity !== undefined) {
    userId = (await requireUser(db.kysely, tenant.id, checkIdentity(filter.identity))).id;
  }
  if (filter.actor !== undefined && !filter.actor.trim()) throw usageError('Actor is empty: give an actor as the Actor column shows it, e.g. web:admin, or leave it out to list every actor');
  const { rows, total } = await listAudit(db.kysely, tenant.id, { userId, actor: filter.actor?.trim(), start: filter.start, end: filter.end, limit: filter.first, offset: filter.skip });
  // Bridges are stored by id (a user's bridgeId); the log names them. Bridges are never deleted, so every id resolves.
  const bridgeNames = new Map((await listBridges(db.kysely, tenant.id)).map((b) => [b.id, b.name]));
  return {
    total,
    rows: rows.map((r) => {
      const shown = showChanges(r.changes, bridgeNames);
      return {
        Time: r.at,
        Actor: r.actor,
        Cmdlet: r.cmdlet,
        Target: r.target,
        Decision: r.decision,
        Reason: r.reason,
        CorrelationId: r.correlationId ?? '',
        /** One line: `BridgeName: Contoso US → Contoso EU; ConferenceId: 123 → 456`. */
        Changes: shown.text,
        /** The same for scripts: field → { Old, New }. */
        ChangeSet: shown.set,
      };
    }),
  };
}

/** The tenant's bridges with their numbers. */
export function bridgesOf(db: Db, tenant: Tenant) {
  return listBridges(db.kysely, tenant.id);
}
