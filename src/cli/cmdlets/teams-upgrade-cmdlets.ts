// TeamsUpgradePolicy (issue 12 §2): granting a coexistence mode, listing the policy instances, and the users' modes.
import { grantTeamsUpgradePolicy, teamsUpgradeUsers, type ChangeOutcome } from '../../directory/index.js';
import { TEAMS_UPGRADE_POLICIES, teamsUpgradeMode, type TeamsUpgradePolicyName } from '../../domain/teams-upgrade.js';
import { notFound } from '../../domain/errors.js';
import type { Cmdlet } from '../cmdlet.js';
import { withNotices } from '../notice.js';
import { bool, directory, outcomeRow, req, str } from './shared.js';

/** One granted user: the usual outcome columns and what the request does. */
function grantRow(o: ChangeOutcome, policy: string): Record<string, unknown> {
  const row = outcomeRow(o);
  return { UserPrincipalName: row.UserPrincipalName, PolicyName: policy, MeetingMigration: row.MeetingMigration, MigrationType: o.decision.migrate ? o.decision.migrationType ?? 'ToSameType' : '', CorrelationId: row.CorrelationId, Reason: row.Reason };
}

const DESCRIPTIONS: Record<TeamsUpgradePolicyName, string> = {
  Islands: 'Skype for Business and Teams side by side; meetings keep their type.',
  SfBOnly: 'Skype for Business only; meetings keep their type.',
  SfBWithTeamsCollab: 'Skype for Business with Teams for collaboration; meetings keep their type.',
  SfBWithTeamsCollabAndMeetings: 'Skype for Business with Teams for collaboration and meetings; granting it to a user converts their Skype for Business meetings to Teams.',
  UpgradeToTeams: 'Teams only; granting it to a user converts their Skype for Business meetings to Teams.',
};

export const TEAMS_UPGRADE_CMDLETS: Cmdlet[] = [
  {
    name: 'Grant-CsTeamsUpgradePolicy',
    workerNotice: 'queued',
    area: 'Users',
    synopsis: 'Sets a user\'s (or with -Global the tenant\'s) Teams coexistence mode; UpgradeToTeams and SfBWithTeamsCollabAndMeetings convert the Skype for Business meetings to Teams.',
    params: [
      { name: 'Identity', type: 'string', position: 0, help: 'The user: UserPrincipalName or SIP address. Leave out with -Global.' },
      { name: 'PolicyName', type: 'enum', values: TEAMS_UPGRADE_POLICIES, required: true, position: 1, help: 'UpgradeToTeams (mode TeamsOnly) or SfBWithTeamsCollabAndMeetings queue SfbToTeams for the user; Islands, SfBOnly and SfBWithTeamsCollab convert nothing (Teams meetings never go back to Skype for Business).' },
      { name: 'MigrateMeetingsToTeams', type: 'bool', help: '$false: set the mode without converting the meetings (convert later with Start-CsExMeetingMigration -TargetMeetingType Teams). Default $true for UpgradeToTeams and SfBWithTeamsCollabAndMeetings; $true is refused for the other policies.' },
      { name: 'Global', type: 'switch', help: 'The tenant\'s policy, for every user without one of their own. Unlike the reference, which never migrates on a tenant-wide grant, MMS queues each of those users (coalesced with their Pending requests; decided and audited one by one).' },
    ],
    examples: [
      'npx mms Grant-CsTeamsUpgradePolicy -Identity lidiah@contoso.com -PolicyName UpgradeToTeams',
      'npx mms Grant-CsTeamsUpgradePolicy -Identity meganb@contoso.com -PolicyName SfBWithTeamsCollabAndMeetings -MigrateMeetingsToTeams $false',
      'npx mms Grant-CsTeamsUpgradePolicy -PolicyName UpgradeToTeams -Global',
    ],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const policy = req(a, 'PolicyName') as TeamsUpgradePolicyName;
      const r = await grantTeamsUpgradePolicy(dir, tenant.id, { identity: str(a, 'Identity'), global: bool(a, 'Global') ?? false, policyName: policy, migrateMeetingsToTeams: bool(a, 'MigrateMeetingsToTeams') });
      if (!r.global) {
        const [o] = r.outcomes;
        return { kind: 'object', value: grantRow(o as ChangeOutcome, policy) };
      }
      const rows = r.outcomes.map((o) => grantRow(o, policy));
      const queued = r.outcomes.filter((o) => o.decision.migrate).length;
      const line = r.noChange !== undefined ? `no change: ${r.noChange}` : `the tenant's TeamsUpgradePolicy is now ${policy}: ${queued} user(s) queued for conversion to Teams`;
      return withNotices({ kind: 'rows', rows, columns: ['UserPrincipalName', 'MeetingMigration', 'MigrationType', 'CorrelationId', 'Reason'] }, line);
    },
  },
  {
    name: 'Get-CsTeamsUpgradePolicy',
    area: 'Users',
    synopsis: 'Lists the TeamsUpgradePolicy instances and their modes; Global is the tenant\'s (Grant-CsTeamsUpgradePolicy -Global).',
    params: [{ name: 'Identity', type: 'string', position: 0, help: 'Only this instance: Global, or a policy name with or without Tag: (Tag:UpgradeToTeams).' }],
    examples: ['npx mms Get-CsTeamsUpgradePolicy', 'npx mms Get-CsTeamsUpgradePolicy -Identity Global'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const global = tenant.settings.teamsUpgradePolicy;
      const rows = [
        { Identity: 'Global', Mode: teamsUpgradeMode(global), Description: `The tenant's policy, for users without one of their own: ${global}.` },
        ...TEAMS_UPGRADE_POLICIES.map((p) => ({ Identity: `Tag:${p}`, Mode: teamsUpgradeMode(p), Description: DESCRIPTIONS[p] })),
      ];
      const id = str(a, 'Identity')?.trim().toLowerCase().replace(/^tag:/, '');
      if (id === undefined) return { kind: 'rows', rows };
      const hit = rows.find((r) => r.Identity.toLowerCase().replace(/^tag:/, '') === id);
      if (!hit) throw notFound(`no TeamsUpgradePolicy '${str(a, 'Identity')}': use Global or one of ${TEAMS_UPGRADE_POLICIES.join(', ')}`);
      return { kind: 'object', value: hit };
    },
  },
  {
    name: 'Get-CsOnlineUser',
    area: 'Users',
    synopsis: 'Shows users\' Teams upgrade policy (their own; empty when the tenant\'s applies) and the coexistence mode in effect.',
    params: [{ name: 'Identity', type: 'string', position: 0, help: 'Only this user (UPN or SIP address).' }],
    examples: ['npx mms Get-CsOnlineUser -Identity lidiah@contoso.com', 'npx mms Get-CsOnlineUser'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const identity = str(a, 'Identity');
      const rows = await teamsUpgradeUsers(ctx.db, tenant.id, identity);
      if (identity !== undefined && rows[0]) return { kind: 'object', value: rows[0] };
      return { kind: 'rows', rows, columns: ['UserPrincipalName', 'DisplayName', 'HostedOn', 'TeamsUpgradePolicy', 'TeamsUpgradeEffectiveMode'] };
    },
  },
];
