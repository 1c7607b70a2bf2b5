import type { Bridge, Tenant, User } from '../domain/directory.js';
import { meetingTarget, type MeetingTarget } from '../domain/meeting-target.js';
import { decideTrigger, typeNote, type ChangeKind, type TriggerDecision } from '../domain/trigger-rules.js';
import { insertAudit } from '../store/audit-repo.js';
import { updateUser } from '../store/directory-repo.js';
import { enqueueMigration } from '../store/requests-repo.js';
import type { Tx } from '../store/transaction.js';
import type { DirectoryContext } from './context.js';
import { noticeForChange, type NoticeOutcome } from './user-notice.js';

/** What one user change did: the user after it, what MMS decided and the request it recorded. */
export interface ChangeOutcome {
  readonly user: User;
  readonly decision: TriggerDecision;
  readonly correlationId: string | null;
  readonly coalesced: boolean;
  /** The email queued to the user about their own dial-in settings, or the PIN issued for the admin to pass on (issue 12 §3). */
  readonly notice?: NoticeOutcome;
}

/** Field-by-field differences, for the audit row. */
export function diff(before: object, after: object): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) out[key] = [a[key] ?? null, b[key] ?? null];
  }
  return out;
}

function describeTarget(t: MeetingTarget): string {
  if (!t.dialIn) return `${t.joinUrlBase}; no dial-in`;
  const d = t.dialIn;
  const via = d.provider === 'ThirdParty' ? `ACP ${d.providerName}` : `bridge ${d.bridgeName}`;
  return `${t.joinUrlBase}; ${via}; toll ${d.toll?.number ?? '-'}; toll-free ${d.tollFree?.number ?? '-'}; id ${d.conferenceId}`;
}

/**
 * Writes a user change inside the caller's transaction: decides from before/after whether the meetings must be
 * migrated, stores the user, records the audit row (with the old and new dial-in information) and, when the answer
 * is yes, upserts the user's Pending migration request.
 */
export async function applyUserChange(
  tx: Tx,
  ctx: DirectoryContext,
  input: {
    tenant: Tenant;
    bridges: readonly Bridge[];
    bridgesAfter?: readonly Bridge[];
    cmdlet: string;
    before: User;
    after: User;
    kinds: readonly ChangeKind[];
    /** What changed for the user besides their own fields (a tenant-wide policy they inherit), for the audit row. */
    extraChanges?: Record<string, readonly [unknown, unknown]>;
  },
): Promise<ChangeOutcome> {
  const now = ctx.now();
  const targetBefore = meetingTarget(input.before, input.tenant, input.bridges);
  const targetAfter = meetingTarget(input.after, input.tenant, input.bridgesAfter ?? input.bridges);
  const decision = decideTrigger({
    kinds: input.kinds,
    settings: input.tenant.settings,
    before: input.before,
    after: input.after,
    targetBefore,
    targetAfter,
  });
  const changes: Record<string, readonly [unknown, unknown]> = { ...diff(input.before, input.after), ...input.extraChanges };
  const shownBefore = describeTarget(targetBefore);
  const shownAfter = describeTarget(targetAfter);
  if (shownBefore !== shownAfter) changes.OnlineMeetingInformation = [shownBefore, shownAfter];
  if (JSON.stringify(input.before) !== JSON.stringify(input.after)) await updateUser(tx, input.after, now);
  const notice = await noticeForChange(tx, ctx, { ...input, bridgesBefore: input.bridges, bridgesAfter: input.bridgesAfter ?? input.bridges });

  let correlationId: string | null = null;
  let coalesced = false;
  let reason = decision.reason;
  if (decision.migrate) {
    const r = await enqueueMigration(tx, {
      tenantId: input.tenant.id,
      userId: input.after.id,
      reason: decision.kind ?? 'Unknown',
      migrationType: decision.migrationType ?? 'ToSameType',
      now,
      notBefore: now + ctx.migrationDelayMs,
    });
    correlationId = r.correlationId;
    coalesced = r.coalesced;
    reason = typeNote(reason, decision.migrationType ?? 'ToSameType', r);
    if (coalesced) reason += ` (merged into the Pending request ${correlationId})`;
  }
  await insertAudit(tx, {
    tenantId: input.tenant.id,
    at: now,
    actor: ctx.actor,
    cmdlet: input.cmdlet,
    userId: input.after.id,
    target: input.after.upn,
    changes,
    decision: decision.migrate ? 'Migrate' : 'NoMigration',
    reason,
    correlationId,
  });
  return { user: input.after, decision, correlationId, coalesced, ...(notice ? { notice } : {}) };
}
