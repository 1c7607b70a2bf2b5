import { bridgesOf, changeTenant, changeTenantSettings, newBridge, newTenant, unregisterServiceNumber } from '../../directory/index.js';
import { usageError } from '../../domain/errors.js';
import type { Tenant } from '../../domain/directory.js';
import type { Cmdlet, CmdletResult } from '../cmdlet.js';
import { withNotices } from '../notice.js';
import { MEETING_MIGRATION_SOURCE_TYPES, MEETING_MIGRATION_TARGET_TYPES } from '../../domain/teams-upgrade.js';
import type { SourceMeetingType, TargetMeetingType } from '../../domain/migration.js';

/** Get-/Set-CsTenantMigrationConfiguration's fields, the reference's hidden meeting-type settings included. */
function migrationConfigView(t: Tenant): Record<string, unknown> {
  return {
    Identity: 'Global',
    MeetingMigrationEnabled: t.settings.meetingMigrationEnabled,
    MeetingMigrationSourceMeetingTypes: t.settings.meetingMigrationSourceMeetingTypes,
    MeetingMigrationTargetMeetingTypes: t.settings.meetingMigrationTargetMeetingTypes,
  };
}
import { bool, directory, num, outcomeRow, req, str, strs } from './shared.js';

function settingsView(t: Tenant): Record<string, unknown> {
  return {
    Identity: t.name,
    AutomaticallyMigrateUserMeetings: t.settings.automaticallyMigrateUserMeetings,
    AutomaticallyReplaceAcpProvider: t.settings.automaticallyReplaceAcpProvider,
    PinLength: t.settings.pinLength,
    MaxMeetingAttendees: t.settings.maxMeetingAttendees,
    PreserveEditedBlocks: t.settings.preserveEditedBlocks,
    TimeZone: t.settings.timeZone,
    AutomaticallySendEmailsToUsers: t.settings.automaticallySendEmailsToUsers,
  };
}

/**
 * A setting given its current value succeeds and writes nothing (issue 9 §4, as Move-CsUser on a user already
 * online): stdout shows the settings as they are, stderr one line `mms: no change: PinLength is already 5`.
 */
function noChange(result: CmdletResult, why: string | undefined): CmdletResult {
  return why === undefined ? result : withNotices(result, `no change: ${why}`);
}

export const TENANT_CMDLETS: Cmdlet[] = [
  {
    name: 'New-MmsTenant',
    area: 'Organization',
    synopsis: 'Creates a tenant (organization) with its verified domains and meeting URLs.',
    params: [
      { name: 'Name', type: 'string', required: true, position: 0, help: 'Organization name.' },
      { name: 'Domain', type: 'string[]', required: true, help: 'Verified domains; the first is the primary one.' },
      { name: 'MeetingUrl', type: 'string', help: 'Base of join links for users homed online (default https://meet.<domain>).' },
      { name: 'OnPremisesMeetingUrl', type: 'string', help: 'Base of join links for users still homed on-premises (default https://meet.onprem.<domain>).' },
      { name: 'TimeZone', type: 'string', help: 'Zone of floating meeting times for users without their own: IANA or Windows name, stored as IANA (default UTC).' },
      { name: 'TeamsMeetingUrl', type: 'string', help: 'Base of Teams join links, for Teams meetings and meetings converted to Teams (default https://teams.microsoft.com/l/meetup-join).' },
    ],
    examples: ['npx mms New-MmsTenant -Name Fabrikam -Domain fabrikam.com -MeetingUrl https://meet.fabrikam.com'],
    async run(ctx, a) {
      const dir = { db: ctx.db, actor: ctx.actor, now: ctx.now, migrationDelayMs: ctx.config.migrationDelayMs };
      const t = await newTenant(dir, { name: req(a, 'Name'), domains: strs(a, 'Domain') ?? [], meetingUrl: str(a, 'MeetingUrl'), onPremisesMeetingUrl: str(a, 'OnPremisesMeetingUrl'), timeZone: str(a, 'TimeZone'), teamsMeetingUrl: str(a, 'TeamsMeetingUrl') });
      return { kind: 'object', value: { TenantId: t.id, Name: t.name, Domains: t.domains, MeetingUrl: t.meetingUrl, OnPremisesMeetingUrl: t.onPremisesMeetingUrl, TeamsMeetingUrl: t.teamsMeetingUrl, TimeZone: t.settings.timeZone } };
    },
  },
  {
    name: 'New-MmsBridge',
    area: 'Organization',
    synopsis: 'Creates an audio-conferencing bridge with its toll and toll-free service numbers.',
    params: [
      { name: 'Name', type: 'string', required: true, position: 0, help: 'Bridge name.' },
      { name: 'TollNumber', type: 'string[]', required: true, help: 'Toll numbers as "+14255550100 (Seattle) en-US es-US"; the first is the default.' },
      { name: 'TollFreeNumber', type: 'string[]', help: 'Toll-free numbers, same form; the first is the default.' },
      { name: 'Default', type: 'switch', help: 'Make this the default online bridge for newly provisioned users.' },
      { name: 'OnPremises', type: 'switch', help: 'This bridge is the on-premises deployment\'s dial-in conferencing.' },
    ],
    examples: ['npx mms New-MmsBridge -Name "Contoso APAC" -TollNumber "+81355550100 (Tokyo) ja-JP","+61255550100 (Sydney) en-AU" -TollFreeNumber "+81120555100 (Japan)"'],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const b = await newBridge(dir, tenant.id, { name: req(a, 'Name'), tollNumbers: strs(a, 'TollNumber') ?? [], tollFreeNumbers: strs(a, 'TollFreeNumber'), isDefault: bool(a, 'Default'), onPremises: bool(a, 'OnPremises') });
      return { kind: 'object', value: { BridgeId: b.id, Name: b.name, IsDefault: b.isDefault, OnPremises: b.onPremises, DefaultServiceNumber: b.defaultTollNumber ?? '', DefaultTollFreeNumber: b.defaultTollFreeNumber ?? '', ServiceNumbers: b.numbers.map((n) => `${n.number} (${n.city}) ${n.kind}`) } };
    },
  },
  {
    name: 'Get-CsOnlineDialInConferencingBridge',
    area: 'Organization',
    synopsis: 'Lists the tenant\'s audio-conferencing bridges and their service numbers.',
    params: [{ name: 'Name', type: 'string', position: 0, help: 'Only the bridge with this name.' }],
    examples: ['npx mms Get-CsOnlineDialInConferencingBridge'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const name = str(a, 'Name')?.toLowerCase();
      const rows = (await bridgesOf(ctx.db, tenant))
        .filter((b) => !name || b.name.toLowerCase() === name)
        .map((b) => ({ Identity: b.id, Name: b.name, IsDefault: b.isDefault, OnPremises: b.onPremises, DefaultServiceNumber: b.defaultTollNumber ?? '', DefaultTollFreeNumber: b.defaultTollFreeNumber ?? '', ServiceNumbers: b.numbers.map((n) => `${n.number} (${n.city}) ${n.kind}`) }));
      return { kind: 'rows', rows };
    },
  },
  {
    name: 'Unregister-CsOnlineDialInConferencingServiceNumber',
    workerNotice: 'queued',
    area: 'Audio conferencing',
    synopsis: 'Unassigns a service number from a bridge; users whose meetings show it get the bridge default and are migrated (stderr: how many, and a changed default).',
    params: [
      { name: 'Identity', type: 'string', required: true, position: 0, help: 'The number to unassign, E.164 (+14255550100).' },
      { name: 'BridgeName', type: 'string', help: 'The bridge, by name.' },
      { name: 'BridgeId', type: 'string', help: 'The bridge, by id.' },
      { name: 'RemoveDefaultServiceNumber', type: 'switch', help: 'Needed when the number is the bridge\'s default toll or toll-free number: the next number of its kind becomes the default (without it the command is refused).' },
      { name: 'WhatIf', type: 'switch', help: 'Show which users it would affect and whose meetings it would migrate, and why, and change nothing.' },
    ],
    examples: [
      'npx mms Unregister-CsOnlineDialInConferencingServiceNumber -Identity +493055550100 -BridgeName "Contoso EU" -WhatIf',
      'npx mms Unregister-CsOnlineDialInConferencingServiceNumber -Identity +12125550100 -BridgeName "Contoso US"',
      'npx mms Unregister-CsOnlineDialInConferencingServiceNumber -Identity +12065550100 -BridgeName "Contoso US" -RemoveDefaultServiceNumber',
    ],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const whatIf = bool(a, 'WhatIf') ?? false;
      const r = await unregisterServiceNumber(dir, tenant.id, { number: req(a, 'Identity'), bridgeName: str(a, 'BridgeName'), bridgeId: str(a, 'BridgeId'), removeDefaultServiceNumber: bool(a, 'RemoveDefaultServiceNumber'), whatIf });
      // stdout: one row per affected user (none: nothing). stderr: the count, even 0, and a changed bridge default.
      const queued = r.outcomes.filter((o) => o.decision.migrate).length;
      if (whatIf) {
        // A preview names no request (nothing was queued), so the worker notice stays silent too.
        const rows = r.outcomes.map((o) => ({ ...outcomeRow(o), MeetingMigration: o.decision.migrate ? 'WouldQueue' : 'None', CorrelationId: '' }));
        const lines = [`what if: unassigning ${r.number} from bridge ${r.bridge.name} would affect ${r.outcomes.length} user(s) and queue ${queued} for migration; nothing was changed`];
        for (const d of r.defaultChanged) lines.push(`what if: the default ${d.kind === 'Toll' ? 'toll' : 'toll-free'} number of bridge ${r.bridge.name} would change from ${d.before} to ${d.after ?? 'none'}`);
        return withNotices({ kind: 'rows', rows, columns: ['UserPrincipalName', 'MeetingMigration', 'Reason'] }, ...lines);
      }
      const lines = [`${r.number} unassigned from bridge ${r.bridge.name}: ${r.outcomes.length} user(s) affected, ${queued} queued for migration`];
      for (const d of r.defaultChanged) {
        const kind = d.kind === 'Toll' ? 'toll' : 'toll-free';
        const shown = d.after ? 'now show it' : `now show no ${kind} number`;
        lines.push(`warning: the default ${kind} number of bridge ${r.bridge.name} changed from ${d.before} to ${d.after ?? 'none'}; users without a number of their own ${shown}`);
      }
      return withNotices({ kind: 'rows', rows: r.outcomes.map(outcomeRow), columns: ['UserPrincipalName', 'MeetingMigration', 'CorrelationId', 'Reason'] }, ...lines);
    },
  },
  {
    name: 'Get-CsTenantMigrationConfiguration',
    area: 'Organization',
    synopsis: 'Shows whether the Meeting Migration Service is enabled for the tenant and which meetings automatic migrations may touch and convert.',
    params: [],
    examples: ['npx mms Get-CsTenantMigrationConfiguration'],
    async run(ctx) {
      const { tenant } = await directory(ctx);
      return { kind: 'object', value: migrationConfigView(tenant) };
    },
  },
  {
    name: 'Set-CsTenantMigrationConfiguration',
    workerNotice: 'due',
    area: 'Organization',
    synopsis: 'Turns the Meeting Migration Service on or off for the tenant; restricts which meetings automatic migrations touch and whether they convert to Teams.',
    params: [
      { name: 'MeetingMigrationEnabled', type: 'bool', help: '$false stops every automatic migration; $true turns it back on.' },
      {
        name: 'MeetingMigrationSourceMeetingTypes', type: 'enum', values: MEETING_MIGRATION_SOURCE_TYPES,
        help: 'Which meetings automatic migrations touch: All (default), SfB or Teams. A trigger\'s MigrationType is narrowed to them (e.g. SfB: a dial-in change queues SfbToSfb; Teams: a Teams upgrade queues nothing). Start-CsExMeetingMigration is not restricted.',
      },
      {
        name: 'MeetingMigrationTargetMeetingTypes', type: 'enum', values: MEETING_MIGRATION_TARGET_TYPES,
        help: 'Whether automatic migrations may convert to Teams: Teams (default) allows it; Current never converts (a Teams upgrade queues nothing, Move-CsUser -MoveToTeams updates without converting). Start-CsExMeetingMigration -TargetMeetingType Teams still converts.',
      },
    ],
    examples: [
      'npx mms Set-CsTenantMigrationConfiguration -MeetingMigrationEnabled false',
      'npx mms Set-CsTenantMigrationConfiguration -MeetingMigrationTargetMeetingTypes Current',
      'npx mms Set-CsTenantMigrationConfiguration -MeetingMigrationSourceMeetingTypes SfB -MeetingMigrationTargetMeetingTypes Teams',
    ],
    async run(ctx, a) {
      const settings = {
        meetingMigrationEnabled: bool(a, 'MeetingMigrationEnabled'),
        meetingMigrationSourceMeetingTypes: str(a, 'MeetingMigrationSourceMeetingTypes') as SourceMeetingType | undefined,
        meetingMigrationTargetMeetingTypes: str(a, 'MeetingMigrationTargetMeetingTypes') as TargetMeetingType | undefined,
      };
      const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
      if (!Object.keys(given).length) {
        throw usageError('nothing to change: give -MeetingMigrationEnabled $true|$false, -MeetingMigrationSourceMeetingTypes All|SfB|Teams or -MeetingMigrationTargetMeetingTypes Current|Teams');
      }
      const { dir, tenant } = await directory(ctx);
      const r = await changeTenantSettings(dir, tenant.id, 'Set-CsTenantMigrationConfiguration', { settings: given });
      return noChange({ kind: 'object', value: migrationConfigView(r.tenant) }, r.noChange);
    },
  },
  {
    name: 'Get-CsOnlineDialInConferencingTenantSettings',
    area: 'Organization',
    synopsis: 'Shows the tenant\'s audio-conferencing settings (automatic migration, ACP replacement, PIN length, attendee limit, time zone).',
    params: [],
    examples: ['npx mms Get-CsOnlineDialInConferencingTenantSettings'],
    async run(ctx) {
      const { tenant } = await directory(ctx);
      return { kind: 'object', value: settingsView(tenant) };
    },
  },
  {
    name: 'Set-CsOnlineDialInConferencingTenantSettings',
    workerNotice: 'due',
    area: 'Organization',
    synopsis: 'Changes the tenant\'s audio-conferencing settings.',
    params: [
      { name: 'AutomaticallyMigrateUserMeetings', type: 'bool', help: 'Migrate meetings after audio-conferencing changes (moves online always migrate).' },
      { name: 'AutomaticallyReplaceAcpProvider', type: 'bool', help: 'Assigning the licence replaces a third-party provider with Microsoft.' },
      { name: 'PinLength', type: 'int', help: 'Leader PIN length, 4 to 12 (default 5).' },
      { name: 'MaxMeetingAttendees', type: 'int', help: 'Meetings with more attendees (organizer included) are skipped (default 250, as documented).' },
      { name: 'PreserveEditedBlocks', type: 'bool', help: 'Skip meetings whose online meeting block the user edited instead of overwriting it.' },
      { name: 'TimeZone', type: 'string', help: 'Zone of floating meeting times for users without their own (IANA or Windows name, stored as IANA); stored meetings\' times are derived again.' },
      { name: 'AutomaticallySendEmailsToUsers', type: 'bool', help: 'Email users their own dial-in details when they change, in their language: conference ID, default numbers and a new leader PIN (licence assigned, provider switched to Microsoft, PIN reset), the new details, or that dial-in is gone (default $true). $false: nothing is sent and a new PIN is shown once to the admin who made the change.' },
    ],
    examples: [
      'npx mms Set-CsOnlineDialInConferencingTenantSettings -AutomaticallyMigrateUserMeetings false',
      'npx mms Set-CsOnlineDialInConferencingTenantSettings -TimeZone "W. Europe Standard Time"',
      'npx mms Set-CsOnlineDialInConferencingTenantSettings -AutomaticallySendEmailsToUsers false',
    ],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const settings = {
        automaticallyMigrateUserMeetings: bool(a, 'AutomaticallyMigrateUserMeetings'),
        automaticallyReplaceAcpProvider: bool(a, 'AutomaticallyReplaceAcpProvider'),
        pinLength: num(a, 'PinLength'),
        maxMeetingAttendees: num(a, 'MaxMeetingAttendees'),
        preserveEditedBlocks: bool(a, 'PreserveEditedBlocks'),
        timeZone: str(a, 'TimeZone'),
        automaticallySendEmailsToUsers: bool(a, 'AutomaticallySendEmailsToUsers'),
      };
      const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
      if (!Object.keys(given).length) {
        throw usageError('nothing to change: give at least one setting, e.g. -AutomaticallyMigrateUserMeetings $true');
      }
      const r = await changeTenantSettings(dir, tenant.id, 'Set-CsOnlineDialInConferencingTenantSettings', { settings: given });
      return noChange({ kind: 'object', value: settingsView(r.tenant) }, r.noChange);
    },
  },
  {
    name: 'Update-CsTenantMeetingUrl',
    area: 'Organization',
    synopsis: 'Changes the tenant\'s online meeting URL (does not migrate existing meetings, as documented).',
    params: [
      { name: 'MeetingUrl', type: 'string', help: 'New base URL (default https://meet.<primary domain>).' },
      { name: 'TeamsMeetingUrl', type: 'string', help: 'Ours: new base of Teams join links (issue 12); given alone, MeetingUrl stays as it is.' },
    ],
    examples: ['npx mms Update-CsTenantMeetingUrl -MeetingUrl https://meet2.contoso.com', 'npx mms Update-CsTenantMeetingUrl -TeamsMeetingUrl https://teams.microsoft.com/l/meetup-join'],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const t = await changeTenant(dir, tenant.id, 'Update-CsTenantMeetingUrl', { meetingUrl: str(a, 'MeetingUrl'), teamsMeetingUrl: str(a, 'TeamsMeetingUrl') });
      return { kind: 'object', value: { MeetingUrl: t.meetingUrl, TeamsMeetingUrl: t.teamsMeetingUrl, MeetingMigration: 'None', Reason: 'Update-CsTenantMeetingUrl does not trigger MMS; run Start-CsExMeetingMigration per user to update existing meetings' } };
    },
  },
];
