import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../../domain/errors.js';
import { auditMigrationTool, MIGRATION_TOOL_CMDLET, runMigrationTool, runMigrationToolOnCalDav } from '../../migration/index.js';
import type { Cmdlet, CmdletContext, CmdletResult } from '../cmdlet.js';
import { readPasswordFile } from './mailbox-host-cmdlets.js';
import { blockDiff } from './migration-cmdlets.js';
import { bool, directory, req, str } from './shared.js';
import { checkFolderParam, checkWritableFile, readFileParam } from './paths.js';

/**
 * The paths checked before anything is written: each mistake is one line and exit 2, and nothing is written.
 * Returns the input file's bytes.
 */
function checkPaths(input: string, output: string, messages: string | undefined): Buffer {
  const bytes = readFileParam('InputPath', input, "the user's calendar exported as .ics");
  checkWritableFile('OutputPath', output);
  const same = path.resolve(input) === path.resolve(output) || (fs.existsSync(output) && fs.realpathSync(input) === fs.realpathSync(output));
  if (same) throw usageError(`-OutputPath is the input file ${input}; give another path so the exported calendar stays as it was`);
  if (messages !== undefined) checkFolderParam('MessagesPath', messages);
  return bytes;
}

/** The row that says the output does not keep the input's layout (the meetings are all there). */
const layoutRow = (input: string) => ({
  Uid: '', Subject: '(the file)', StartTime: null, Action: 'Warning', AttendeesNotified: 0, Diff: '', Messages: '',
  Reason: `LayoutNotKept: an updated meeting of ${input} could not be put back in its place in the file, so the output was joined again from the file's meetings and is not byte for byte the input around them (lines outside VCALENDAR, unused VTIMEZONEs and unparseable objects are not in it); every meeting is in it — compare before importing`,
});

/** -CalDavUrl: the tool on the mailbox itself; the rows say what it did to each meeting and which messages to send. */
async function runOnCalDav(ctx: CmdletContext, a: Record<string, unknown>, messagesPath: string | undefined): Promise<CmdletResult> {
  if (str(a, 'InputPath') !== undefined || str(a, 'OutputPath') !== undefined) throw usageError('give either -CalDavUrl or -InputPath/-OutputPath, not both');
  const url = req(a, 'CalDavUrl');
  try {
    new URL(url);
  } catch {
    throw usageError(`-CalDavUrl '${url}' is not a URL: give https://dav.contoso.com/fay/calendar/ or the server's URL`);
  }
  const userName = str(a, 'UserName');
  const password = readPasswordFile(a);
  if (userName === undefined || password === undefined) throw usageError('-CalDavUrl needs -UserName and -PasswordFile (the account that may write the mailbox, and a file holding its password)');
  if (messagesPath !== undefined) checkFolderParam('MessagesPath', messagesPath);
  const { tenant } = await directory(ctx);
  const preview = bool(a, 'WhatIf') ?? false;
  const r = await runMigrationToolOnCalDav(ctx.db, tenant.id, req(a, 'Identity'), { url, userName, password }, { now: ctx.now, serviceAddress: ctx.config.serviceAddress || undefined, preview });
  if (!preview) {
    if (messagesPath !== undefined) {
      fs.mkdirSync(messagesPath, { recursive: true });
      for (const m of r.messages) fs.writeFileSync(path.join(messagesPath, m.fileName), m.eml);
    }
    await auditMigrationTool(ctx.db, tenant.id, req(a, 'Identity'), { ...r, ics: '', layoutKept: true }, { actor: ctx.actor, now: ctx.now(), input: url, output: url });
  }
  const rows = r.results.map((x) => ({
    Uid: x.uid, Subject: x.subject, StartTime: x.start, Action: preview && x.action === 'Updated' ? 'WouldUpdate' : x.action, AttendeesNotified: x.attendeesNotified,
    Reason: x.reason + (x.action === 'Updated' && r.serverScheduled ? '; the server schedules: it told the attendees' : ''),
    Diff: x.oldBlock !== undefined ? blockDiff(x.oldBlock, x.newBlock ?? '') : '',
    Messages: r.messages.filter((m) => m.uid === x.uid).map((m) => m.fileName).join(', '),
  }));
  const unsent = !preview && !r.serverScheduled && messagesPath === undefined && r.messages.length > 0;
  return {
    kind: 'rows', rows: unsent ? [...rows, { Uid: '', Subject: '(the attendees)', StartTime: null, Action: 'Warning', AttendeesNotified: 0, Diff: '', Messages: '', Reason: `the server does not schedule and no -MessagesPath was given: ${r.messages.length} updates for attendees were not written; run again with -MessagesPath <folder> (the meetings are already up to date, so give -WhatIf to see them) or tell them yourself` }] : rows,
    columns: preview ? ['Subject', 'StartTime', 'Action', 'Reason', 'Diff'] : ['Subject', 'StartTime', 'Action', 'AttendeesNotified', 'Reason', 'Messages'],
  };
}

export const MIGRATION_TOOL_CMDLETS: Cmdlet[] = [
  {
    name: MIGRATION_TOOL_CMDLET,
    area: 'Meeting migration',
    synopsis: 'The manual tool for mailboxes MMS cannot reach (on-premises): migrates the meetings a user organized in an exported calendar file — also those still carrying the dial-in text of a third-party provider the user was on before (ThirdPartyBlockReplaced) — writes the rewritten file and one RFC 6047 .eml per update to send.',
    params: [
      { name: 'Identity', type: 'string', required: true, position: 0, help: 'The organizer whose meetings are migrated (UPN or SIP address); only meetings whose ORGANIZER is one of their addresses are changed.' },
      { name: 'InputPath', type: 'string', help: 'The user\'s calendar exported as .ics (it is only read). A meeting written while the user was on a third-party audio-conferencing provider has its lines carrying that provider\'s participant passcode and one of its numbers (as the audit trail kept them from Set-CsUserAcp when the provider was replaced) replaced by the block; text without both is left alone.' },
      { name: 'OutputPath', type: 'string', help: 'Where the rewritten calendar goes (not the input); import it back into the mailbox. Everything but the updated meetings comes out byte for byte, objects the tool cannot parse included (each listed as Skipped with the reason).' },
      { name: 'MessagesPath', type: 'string', help: 'A folder for the updates to send: one RFC 6047 .eml per (meeting, attendee), exactly what SMTP delivery would send. Created when missing.' },
      { name: 'CalDavUrl', type: 'string', help: 'Instead of -InputPath/-OutputPath: the mailbox on a CalDAV server, as a calendar URL or the server\'s URL (its calendars are then discovered, RFC 6764). The meetings are rewritten in place with If-Match (an edit made meanwhile is read again and kept); a server that schedules (RFC 6638) tells the attendees itself, otherwise the messages go to -MessagesPath.' },
      { name: 'UserName', type: 'string', help: 'With -CalDavUrl: the account that may write the mailbox.' },
      { name: 'PasswordFile', type: 'string', help: 'With -CalDavUrl: a file holding only that account\'s password (never on the command line); it is not stored.' },
      { name: 'WhatIf', type: 'switch', help: 'Show what would happen to each meeting, with the block diff, and write nothing.' },
    ],
    examples: [
      'npx mms Invoke-MmsMeetingMigrationTool -Identity pradeepg@contoso.com -InputPath pradeepg.ics -OutputPath pradeepg-migrated.ics -MessagesPath pradeepg-updates',
      'npx mms Invoke-MmsMeetingMigrationTool -Identity pradeepg@contoso.com -InputPath pradeepg.ics -OutputPath pradeepg-migrated.ics -WhatIf',
      'npx mms Invoke-MmsMeetingMigrationTool -Identity pradeepg@contoso.com -CalDavUrl https://dav.contoso.com/pradeepg/calendar/ -UserName pradeepg -PasswordFile pradeepg.pw -MessagesPath pradeepg-updates',
    ],
    async run(ctx, a) {
      const messagesPath = str(a, 'MessagesPath');
      if (str(a, 'CalDavUrl') !== undefined) return runOnCalDav(ctx, a, messagesPath);
      if (str(a, 'InputPath') === undefined || str(a, 'OutputPath') === undefined) {
        throw usageError('give -InputPath and -OutputPath (an exported calendar file), or -CalDavUrl with -UserName and -PasswordFile (the mailbox on its server)');
      }
      const input = req(a, 'InputPath');
      const output = req(a, 'OutputPath');
      const bytes = checkPaths(input, output, messagesPath);
      const { tenant } = await directory(ctx);
      const preview = bool(a, 'WhatIf') ?? false;
      const r = await runMigrationTool(ctx.db, tenant.id, req(a, 'Identity'), bytes, {
        now: ctx.now, serviceAddress: ctx.config.serviceAddress || undefined, preview, source: input,
      });
      if (preview) {
        const rows = r.results.map((x) => ({
          Uid: x.uid, Subject: x.subject, StartTime: x.start, Action: x.action === 'Updated' ? 'WouldUpdate' : x.action, Reason: x.reason,
          Diff: x.oldBlock !== undefined ? blockDiff(x.oldBlock, x.newBlock ?? '') : '',
        }));
        return { kind: 'rows', rows: r.layoutKept ? rows : [...rows, layoutRow(input)], columns: ['Subject', 'StartTime', 'Action', 'Reason', 'Diff'] };
      }
      // Write to a temporary name and rename: an interrupted run never leaves half a calendar at OutputPath.
      const tmp = `${output}.mms-${process.pid}.tmp`;
      fs.writeFileSync(tmp, r.ics, 'utf8');
      fs.renameSync(tmp, output);
      if (messagesPath !== undefined) {
        fs.mkdirSync(messagesPath, { recursive: true });
        for (const m of r.messages) fs.writeFileSync(path.join(messagesPath, m.fileName), m.eml);
      }
      await auditMigrationTool(ctx.db, tenant.id, req(a, 'Identity'), r, { actor: ctx.actor, now: ctx.now(), input, output });
      const rows = r.results.map((x) => ({
        Uid: x.uid, Subject: x.subject, StartTime: x.start, Action: x.action, AttendeesNotified: x.attendeesNotified, Reason: x.reason,
        Messages: messagesPath === undefined ? '' : r.messages.filter((m) => m.uid === x.uid).map((m) => m.fileName).join(', '),
      }));
      return { kind: 'rows', rows: r.layoutKept ? rows : [...rows, layoutRow(input)], columns: ['Subject', 'StartTime', 'Action', 'AttendeesNotified', 'Reason', 'Messages'] };
    },
  },
];
