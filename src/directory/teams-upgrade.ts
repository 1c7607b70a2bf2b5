// Grant-CsTeamsUpgradePolicy (issue 12 §2): a user's coexistence mode, and the Skype → Teams conversion the
// reference runs when a user is granted a mode that schedules Teams meetings. `-Global` is the tenant's policy for
// everyone without one of their own; unlike the reference (which never migrates on a tenant-wide grant, so admins
// script a loop over users), ours queues every user it changes, each decided and audited like a per-user grant.
import type { User } from '../domain/directory.js';
import { notFound, usageError } from '../domain/errors.js';
import { convertsMeetings, effectiveTeamsUpgradePolicy, teamsUpgradeMode, type TeamsUpgradePolicyName } from '../domain/teams-upgrade.js';
import type { ChangeKind } from '../domain/trigger-rules.js';
import { insertAudit } from '../store/audit-repo.js';
import { getTenant, listBridges, listUsers, requireUser, updateTenant } from '../store/directory-repo.js';
import { writeTransaction } from '../store/transaction.js';
import { applyUserChange, type ChangeOutcome } from './apply-change.js';
import { changeUser } from './change-user.js';
import type { DirectoryContext } from './context.js';

export interface GrantTeamsUpgradeInput {
  /** The user (UPN or SIP address); absent with `global`. */
  readonly identity?: string;
  /** The tenant's policy instead of one user's. */
  readonly global?: boolean;
  readonly policyName: TeamsUpgradePolicyName;
  /** -MigrateMeetingsToTeams: default true for the modes that convert; $false opts out of the conversion. */
  readonly migrateMeetingsToTeams?: boolean;
}

/** What a grant did: every user it changed (one for a per-user grant) and, when it changed nothing, why. */
export interface GrantTeamsUpgradeOutcome {
  readonly policyName: TeamsUpgradePolicyName;
  readonly global: boolean;
  readonly outcomes: readonly ChangeOutcome[];
  readonly noChange?: string;
}

const CMDLET = 'Grant-CsTeamsUpgradePolicy';

/** The trigger a grant of `policy` is: a conversion, an opted-out one, or a mode that converts nothing. */
function grantKind(policy: TeamsUpgradePolicyName, migrate: boolean | undefined): ChangeKind {
  if (!convertsMeetings(policy)) return 'TeamsUpgradeModeChanged';
  return migrate === false ? 'TeamsUpgradeGrantedWithoutMigration' : 'TeamsUpgradeGranted';
}

/** Checks the parameters together (one Usage line naming the fix), before anything is read. */
function checkGrant(input: GrantTeamsUpgradeInput): void {
  if (input.global && input.identity !== undefined) throw usageError('give -Identity <user> or -Global, not both: -Global sets the tenant\'s policy for every user without one of their own');
  if (!input.global && input.identity === undefined) throw usageError('say whom the policy is for: -Identity <user> (e.g. -Identity lidiah@contoso.com) or -Global for the whole tenant');
  if (input.migrateMeetingsToTeams === true && !convertsMeetings(input.policyName)) {
    throw usageError(`-MigrateMeetingsToTeams $true needs a policy whose mode schedules Teams meetings (UpgradeToTeams, SfBWithTeamsCollabAndMeetings); ${input.policyName} is mode ${teamsUpgradeMode(input.policyName)}: leave -MigrateMeetingsToTeams out`);
  }
}

/**
 * Grant-CsTeamsUpgradePolicy. Per user: stores the user's policy, audits it and, for UpgradeToTeams and
 * SfBWithTeamsCollabAndMeetings, queues SfbToTeams unless -MigrateMeetingsToTeams $false (the trigger rules gate it
 * like any other: tenant switch, mailbox, provider, homing, the tenant's meeting-type settings). `-Global`: stores
 * the tenant's policy and, when it converts, decides each user without a policy of their own in the same
 * transaction; their requests coalesce with whatever each user has Pending already.
 */
export async function grantTeamsUpgradePolicy(ctx: DirectoryContext, tenantId: string, input: GrantTeamsUpgradeInput): Promise<GrantTeamsUpgradeOutcome> {
  checkGrant(input);
  const policy = input.policyName;
  const kind = grantKind(policy, input.migrateMeetingsToTeams);
  if (!input.global) {
    const outcome = await changeUser(ctx, tenantId, input.identity as string, CMDLET, (user) => {
      if (user.teamsUpgradePolicy === policy) return { noChange: `${user.upn} already has TeamsUpgradePolicy ${policy}` };
      return { after: { ...user, teamsUpgradePolicy: policy }, kinds: [kind] };
    });
    return { policyName: policy, global: false, outcomes: [outcome] };
  }
  return writeTransaction(ctx.db, async (tx) => {
    const tenant = await getTenant(tx, tenantId);
    if (!tenant) throw notFound(`tenant ${tenantId} no longer exists`);
    const before = tenant.settings.teamsUpgradePolicy;
    if (before === policy) return { policyName: policy, global: true, outcomes: [], noChange: `the tenant's TeamsUpgradePolicy is already ${policy}` };
    const after = { ...tenant, settings: { ...tenant.settings, teamsUpgradePolicy: policy } };
    await updateTenant(tx, after);
    const bridges = await listBridges(tx, tenantId);
    // Users with a policy of their own keep it (a per-user grant wins over the tenant's, as in the reference).
    const inheriting = (await listUsers(tx, tenantId)).filter((u: User) => u.teamsUpgradePolicy === null);
    const outcomes: ChangeOutcome[] = [];
    if (kind === 'TeamsUpgradeGranted') {
      for (const user of inheriting) {
        outcomes.push(await applyUserChange(tx, ctx, {
          tenant: after, bridges, cmdlet: CMDLET, before: user, after: user, kinds: [kind],
          extraChanges: { TeamsUpgradePolicy: [`${before} (Global)`, `${policy} (Global)`] },
        }));
      }
    }
    const queued = outcomes.filter((o) => o.decision.migrate).length;
    const why = kind === 'TeamsUpgradeGranted'
      ? `${inheriting.length} user(s) without a policy of their own now have ${policy}; ${queued} queued for conversion to Teams (see each user's row for why or why not)`
      : kind === 'TeamsUpgradeGrantedWithoutMigration'
        ? `${inheriting.length} user(s) without a policy of their own now have ${policy}; granted with -MigrateMeetingsToTeams $false, so no meetings are converted`
        : `${inheriting.length} user(s) without a policy of their own now have ${policy} (mode ${teamsUpgradeMode(policy)}), which schedules no Teams meetings: nothing is converted`;
    await insertAudit(tx, {
      tenantId, at: ctx.now(), actor: ctx.actor, cmdlet: CMDLET, userId: null, target: tenant.name,
      changes: { TeamsUpgradePolicy: [before, policy] }, decision: queued ? 'Migrate' : 'NoMigration', reason: `Global TeamsUpgradePolicy changed: ${why}`, correlationId: null,
    });
    return { policyName: policy, global: true, outcomes };
  });
}

/** Get-CsOnlineUser's Teams upgrade fields: the user's own policy (empty: the tenant's applies) and the mode in effect. */
export async function teamsUpgradeUsers(db: DirectoryContext['db'], tenantId: string, identity?: string): Promise<Record<string, unknown>[]> {
  const tenant = await getTenant(db.kysely, tenantId);
  if (!tenant) throw notFound(`tenant ${tenantId} no longer exists`);
  const users = identity === undefined ? await listUsers(db.kysely, tenantId) : [await requireUser(db.kysely, tenantId, identity)];
  return users.map((u) => ({
    Identity: u.upn,
    UserPrincipalName: u.upn,
    DisplayName: u.displayName,
    HostedOn: u.hostedOn,
    TeamsUpgradePolicy: u.teamsUpgradePolicy ?? '',
    TeamsUpgradeEffectiveMode: teamsUpgradeMode(effectiveTeamsUpgradePolicy(u, tenant.settings)),
  }));
}
