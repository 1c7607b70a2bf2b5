import { secretsFor } from '../secrets.js';
import { MIGRATION_STATES, MIGRATION_TYPES, migrationTypeFor, type MigrationState, type MigrationType, type SourceMeetingType, type TargetMeetingType } from '../../domain/migration.js';
import { MEETING_MIGRATION_SOURCE_TYPES, MEETING_MIGRATION_TARGET_TYPES } from '../../domain/teams-upgrade.js';
import { MmsError, usageError } from '../../domain/errors.js';
import {
  migrateUser, migrationStatus, migrationStatusPage, migrationSummary, startMigration, statusProperties, transactionHistoryPage, undoMigration, STATUS_FIELDS,
} from '../../migration/index.js';
import type { Cmdlet, CmdletContext } from '../cmdlet.js';
import { cellText } from '../format.js';
import { requireUser } from '../../store/directory-repo.js';
import { bool, directory, num, req, str, strs } from './shared.js';
import { waitForRequests } from './wait-progress.js';
import { pageArgs, PAGING_PARAMS } from './paging.js';

const serviceAddress = (ctx: CmdletContext) => ctx.config.serviceAddress || undefined;

/** Get-CsMeetingMigrationStatus's default columns: who, state and id first, then the counts, then why. */
const STATUS_COLUMNS = [
  'UserPrincipalName', 'State', 'CorrelationId', 'CreateDate', 'ModifiedDate', 'TotalMeeting', 'SucceededMeeting', 'FailedMeeting',
  'SkippedMeeting', 'InvitesUpdate', 'QueuePosition', 'NotBefore', 'LastMessage',
];

export const MIGRATION_CMDLETS: Cmdlet[] = [
  {
    name: 'Get-CsMeetingMigrationStatus',
    workerNotice: 'due',
    area: 'Meeting migration',
    synopsis: 'Shows migration requests: state, counts, last message, and for Pending ones when they run and their place in the queue.',
    params: [
      { name: 'Identity', type: 'string', aliases: ['UserId'], position: 0, help: 'Only this user\'s requests (UPN or SIP address).' },
      { name: 'SummaryOnly', type: 'switch', help: 'Only State and UserCount, each user counted once by their latest request.' },
      { name: 'StartTime', type: 'datetime', help: 'Requests created at or after this time ("10/1/2016" or ISO 8601).' },
      { name: 'EndTime', type: 'datetime', help: 'Requests created at or before this time; a date alone includes that whole day.' },
      { name: 'State', type: 'enum', values: MIGRATION_STATES, help: 'Only requests in this state.' },
      { name: 'MigrationType', type: 'enum', values: MIGRATION_TYPES, help: 'Only requests of this type (SfbToTeams: Skype for Business meetings converted to Teams; ToSameType: every meeting updated, keeping its type; see mms help Start-CsExMeetingMigration).' },
      { name: 'Latest', type: 'switch', help: 'Only each user\'s latest request of all, whatever -StartTime/-EndTime say (with -State Failed: the failures not retried since).' },
      { name: 'CorrelationId', type: 'string', help: 'Only this request: its CorrelationId, or the first 8 or more characters of it.' },
      { name: 'Property', type: 'string[]', help: `Fields to show: ${STATUS_FIELDS.join(', ')} (LastErrorMessage is accepted for LastMessage).` },
      ...PAGING_PARAMS,
    ],
    examples: [
      'npx mms Get-CsMeetingMigrationStatus -SummaryOnly', 'npx mms Get-CsMeetingMigrationStatus -StartTime "10/1/2026" -EndTime "10/8/2026"', 'npx mms Get-CsMeetingMigrationStatus -UserId lidiah@contoso.com -Property State,LastErrorMessage',
      'npx mms Get-CsMeetingMigrationStatus -MigrationType SfbToTeams -State Pending',
    ],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const filter = {
        identity: str(a, 'Identity'), start: num(a, 'StartTime'), end: num(a, 'EndTime'), state: str(a, 'State') as MigrationState | undefined, latest: bool(a, 'Latest'), correlationId: str(a, 'CorrelationId'),
        migrationType: str(a, 'MigrationType') as MigrationType | undefined,
      };
      // -SummaryOnly counts every request: it is never cut, so it takes no -First / -Skip.
      if (bool(a, 'SummaryOnly') && filter.correlationId !== undefined) throw usageError('-SummaryOnly counts every request; it does not take -CorrelationId: leave one of them out');
      if (bool(a, 'SummaryOnly') && filter.migrationType !== undefined) throw usageError('-SummaryOnly counts each user by their latest request of any type; it does not take -MigrationType: leave one of them out');
      if (bool(a, 'SummaryOnly')) return { kind: 'rows', rows: await migrationSummary(ctx.db, tenant, filter) };
      const { rows, total, skip } = await migrationStatusPage(ctx.db, tenant, filter, pageArgs(a));
      const page = { total, skip };
      const props = strs(a, 'Property');
      if (props) {
        const fields = statusProperties(props);
        return { kind: 'rows', rows: rows.map((r) => Object.fromEntries(fields.map((f) => [f, r[f]]))), columns: fields, page };
      }
      // CorrelationId whole, as the reference prints it (not the 8 characters -Wait shows): the table is what admins
      // copy into Undo, and a fixed 8-character cut can name two migrations in a large tenant. Too wide for 80 or
      // 120 columns, so a terminal gets the list view; piped output gets the whole table.
      return { kind: 'rows', rows, page, columns: STATUS_COLUMNS };
    },
  },
  {
    name: 'Get-CsMeetingMigrationTransactionHistory',
    area: 'Meeting migration',
    synopsis: 'Shows, meeting by meeting, what migrations did to a user\'s meetings and why, and each internal attendee copy that no longer parsed (AttendeeCopyDamaged).',
    params: [
      { name: 'Identity', type: 'string', required: true, position: 0, help: 'The organizer (UPN or SIP address).' },
      { name: 'CorrelationId', type: 'string', help: 'Only this migration: its CorrelationId, or the first 8 or more characters of it.' },
      { name: 'StartTime', type: 'datetime', help: 'From this time.' },
      { name: 'EndTime', type: 'datetime', help: 'Up to this time; a date alone includes that whole day.' },
      ...PAGING_PARAMS,
    ],
    examples: ['npx mms Get-CsMeetingMigrationTransactionHistory -Identity lidiah@contoso.com', 'npx mms Get-CsMeetingMigrationTransactionHistory -Identity lidiah@contoso.com -First 100 -Skip 100'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const { rows, total, skip } = await transactionHistoryPage(ctx.db, tenant, { identity: req(a, 'Identity'), correlationId: str(a, 'CorrelationId'), start: num(a, 'StartTime'), end: num(a, 'EndTime') }, pageArgs(a));
      return { kind: 'rows', rows, page: { total, skip }, columns: ['Time', 'Subject', 'StartTime', 'Action', 'AttendeesNotified', 'Reason'] };
    },
  },
  {
    name: 'Start-CsExMeetingMigration',
    workerNotice: 'queued',
    area: 'Meeting migration',
    synopsis: 'Queues users\' meetings for migration now, or for conversion to Teams (-TargetMeetingType Teams); -WhatIf previews without writing, -Wait waits and shows progress.',
    params: [
      { name: 'Identity', type: 'string[]', required: true, position: 0, help: 'One or more users (UPN or SIP address).' },
      {
        name: 'SourceMeetingType', type: 'enum', values: MEETING_MIGRATION_SOURCE_TYPES,
        help: 'Which meetings: All (default), SfB (Skype for Business meetings only) or Teams (Teams meetings only). Not narrowed by the tenant\'s MeetingMigrationSourceMeetingTypes, which restricts automatic migrations only.',
      },
      {
        name: 'TargetMeetingType', type: 'enum', values: MEETING_MIGRATION_TARGET_TYPES,
        help: 'What they become: Current (default) keeps each meeting\'s type; Teams converts Skype for Business meetings to Teams meetings. Not narrowed by MeetingMigrationTargetMeetingTypes. The request\'s MigrationType: All+Current ToSameType, SfB+Current SfbToSfb, Teams+either TeamsToTeams, SfB+Teams SfbToTeams, All+Teams AllToTeams.',
      },
      { name: 'WhatIf', type: 'switch', help: 'Show what would happen to each meeting, with the block diff as - and + lines, and write nothing.' },
      { name: 'Wait', type: 'switch', help: 'Wait for the result, with a progress bar on a terminal.' },
    ],
    examples: [
      'npx mms Start-CsExMeetingMigration -Identity lidiah@contoso.com', 'npx mms Start-CsExMeetingMigration -Identity lidiah@contoso.com -WhatIf', 'npx mms Start-CsExMeetingMigration -Identity meganb@contoso.com,jonis@contoso.com -Wait',
      'npx mms Start-CsExMeetingMigration -Identity lidiah@contoso.com -TargetMeetingType Teams',
      'npx mms Start-CsExMeetingMigration -Identity meganb@contoso.com -SourceMeetingType SfB -TargetMeetingType Teams',
    ],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const identities = strs(a, 'Identity') ?? [];
      const type = migrationTypeFor((str(a, 'SourceMeetingType') ?? 'All') as SourceMeetingType, (str(a, 'TargetMeetingType') ?? 'Current') as TargetMeetingType);
      if (bool(a, 'WhatIf')) {
        const rows = await preview(ctx, tenant.id, identities, type);
        return { kind: 'rows', rows, columns: ['Organizer', 'Subject', 'StartTime', 'Action', 'Reason', 'Diff'], text: previewText(rows) };
      }
      const results = await startMigration(ctx.db, tenant, identities, { actor: ctx.actor, now: ctx.now }, type);
      if (results.every((r) => r.status === 'Failed')) {
        const first = results[0];
        throw new MmsError('Conflict', first && first.status === 'Failed' ? (results.length === 1 ? first.reason : `none of the ${results.length} users was queued; first: ${first.reason}`) : 'no user given');
      }
      if (bool(a, 'Wait')) {
        const ids = results.flatMap((r) => (r.status === 'Queued' ? [r.correlationId] : []));
        await waitForRequests(ctx, ids);
        const rows = await migrationStatus(ctx.db, tenant, {});
        return { kind: 'rows', rows: rows.filter((r) => ids.includes(r.CorrelationId)), columns: ['UserPrincipalName', 'State', 'TotalMeeting', 'SucceededMeeting', 'FailedMeeting', 'SkippedMeeting', 'InvitesUpdate', 'LastMessage'] };
      }
      return {
        kind: 'rows',
        rows: results.map((r) => (r.status === 'Queued'
          ? { Identity: r.identity, Status: r.coalesced ? 'Queued (merged)' : 'Queued', CorrelationId: r.correlationId, MigrationType: r.migrationType, Note: r.note }
          : { Identity: r.identity, Status: 'Failed', CorrelationId: '', MigrationType: '', Note: r.reason })),
      };
    },
  },
  {
    name: 'Undo-MmsMeetingMigration',
    area: 'Meeting migration',
    synopsis: 'Restores the blocks a migration wrote and notifies attendees; meetings changed since are left alone and reported. Refuses, naming them, when the blocks show values the directory no longer has, unless -Force.',
    params: [
      { name: 'CorrelationId', type: 'string', required: true, position: 0, help: 'The migration to undo (from Get-CsMeetingMigrationStatus), whole or its first 8 or more characters.' },
      { name: 'Force', type: 'switch', help: 'Restore even blocks showing values the directory no longer has (a conference ID changed since).' },
    ],
    examples: ['npx mms Undo-MmsMeetingMigration -CorrelationId 8adf2505-4619-417f-976c-ae6de8a9276e'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const r = await undoMigration(ctx.db, tenant, req(a, 'CorrelationId'), { actor: ctx.actor, now: ctx.now, serviceAddress: serviceAddress(ctx), force: bool(a, 'Force'), leaseMs: ctx.config.leaseMs });
      return {
        kind: 'object',
        value: {
          CorrelationId: r.correlationId,
          Restored: r.restored,
          LeftAlone: r.leftAlone.map((m) => `${m.subject} (${m.uid}): ${m.reason}`),
          AlreadyUndone: r.meetings.filter((m) => m.status === 'AlreadyUndone').map((m) => `${m.subject} (${m.uid}): ${m.reason}`),
          Failed: r.meetings.filter((m) => m.status === 'Failed').map((m) => `${m.subject} (${m.uid}): ${m.reason}`),
          ForcedPast: r.differences,
        },
      };
    },
  },
];

/**
 * -WhatIf: plans every meeting of each user and writes nothing. The request carries the MigrationType the start
 * would queue, for the engine to plan by (issue 12: the engine reads a request's migrationType).
 */
async function preview(ctx: CmdletContext, tenantId: string, identities: readonly string[], migrationType: MigrationType) {
  const rows: Record<string, unknown>[] = [];
  for (const identity of identities) {
    const user = await requireUser(ctx.db.kysely, tenantId, identity);
    const request = { correlationId: 'preview', tenantId, userId: user.id, migrationType };
    const { results } = await migrateUser({ db: ctx.db, now: ctx.now, preview: true, serviceAddress: serviceAddress(ctx), secrets: secretsFor(ctx.config, ctx.db) }, request);
    for (const r of results) {
      rows.push({ Organizer: user.upn, Uid: r.uid, Subject: r.subject, StartTime: r.start, Action: r.action === 'Updated' ? 'WouldUpdate' : r.action, Reason: r.reason, Diff: r.oldBlock !== undefined ? blockDiff(r.oldBlock, r.newBlock ?? '') : '' });
    }
  }
  return rows;
}

/**
 * -WhatIf for people: per meeting a header line (organizer, subject, start, action), the reason, and the block diff
 * as real lines, `-` going and `+` coming, as a unified diff shows them; a blank line between meetings.
 * `--json` prints the rows instead, Diff as one text of such lines.
 */
export function previewText(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return 'No meetings to migrate.';
  return rows.map((r) => {
    const head = [r.Organizer, r.Subject || '(no subject)', cellText(r.StartTime, 'StartTime'), r.Action].join(' | ');
    const diff = typeof r.Diff === 'string' && r.Diff !== '' ? r.Diff.split('\n').map((l) => `  ${l}`) : [];
    return [head, `  Reason: ${r.Reason}`, ...diff].join('\n');
  }).join('\n\n');
}

/** A line diff of two blocks: `-` lines go, `+` lines come. */
export function blockDiff(before: string, after: string): string {
  const a = before.split(/\r?\n/);
  const b = after.split(/\r?\n/);
  const out = [...a.filter((l) => !b.includes(l)).map((l) => `- ${l}`), ...b.filter((l) => !a.includes(l)).map((l) => `+ ${l}`)];
  return out.join('\n');
}
