import { exportCalendar, importCalendar, listMeetings, scheduleMeeting } from '../../meetings/index.js';
import type { Cmdlet } from '../cmdlet.js';
import { bool, directory, num, req, str, strs } from './shared.js';
import { pageArgs, PAGING_PARAMS } from './paging.js';
import { checkWritableFile, readFileParam, writeFileParam } from './paths.js';

/** Why an import that brought nothing in failed (exit 1), or undefined when something came in. */
function nothingImported(path: string, came: number, problems: number): string | undefined {
  if (came > 0) return undefined;
  if (problems === 0) {
    return `nothing was imported: ${path} holds no VEVENT, VTODO or VJOURNAL; export the calendar with its meetings and import that file`;
  }
  const what = problems === 1 ? 'the problem listed under Problems; fix it' : `the ${problems} problems listed under Problems; fix them`;
  return `nothing was imported from ${path}: see ${what}, or export the calendar again, and import it again`;
}

export const MEETING_CMDLETS: Cmdlet[] = [
  {
    name: 'New-MmsMeeting',
    area: 'Meetings',
    synopsis: 'Schedules an online meeting as the Outlook add-in does (block in the organizer\'s language, copies for internal attendees).',
    params: [
      { name: 'Organizer', type: 'string', required: true, help: 'The organizing user (UPN or SIP address).' },
      { name: 'Subject', type: 'string', required: true, help: 'Meeting subject.' },
      { name: 'Start', type: 'datetime', required: true, help: 'Start (ISO 8601, e.g. 2026-12-01T09:00:00Z).' },
      { name: 'End', type: 'datetime', required: true, help: 'End, after Start.' },
      { name: 'Attendees', type: 'string[]', help: 'Attendee mail addresses, a,b,c.' },
      { name: 'Body', type: 'string', help: 'The invitation text; the online meeting block is added after it.' },
      { name: 'Recurrence', type: 'string', help: 'An RRULE, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10.' },
      { name: 'TimeZone', type: 'string', help: 'IANA time zone the times are shown in, e.g. Europe/Paris.' },
    ],
    examples: ['npx mms New-MmsMeeting -Organizer meganb@contoso.com -Subject "Weekly sync" -Start 2026-12-01T09:00:00Z -End 2026-12-01T09:30:00Z -Attendees adelev@contoso.com,partner@fabrikam.com -Recurrence "FREQ=WEEKLY;COUNT=10"'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const r = await scheduleMeeting(ctx.db, tenant.id, {
        organizer: req(a, 'Organizer'), subject: req(a, 'Subject'), start: num(a, 'Start') as number, end: num(a, 'End') as number,
        attendees: strs(a, 'Attendees'), body: str(a, 'Body'), recurrence: str(a, 'Recurrence'), timeZone: str(a, 'TimeZone'),
      }, ctx.now);
      return { kind: 'object', value: { Uid: r.uid, OnlineMeetingId: r.meetingId, JoinUrl: r.joinUrl, InternalCopies: r.internalCopies, ExternalAttendees: r.externalAttendees } };
    },
  },
  {
    name: 'Get-MmsMeeting',
    area: 'Meetings',
    synopsis: 'Lists the meetings in a user\'s mailbox, each with its MeetingType (SfB or Teams; empty for an appointment without an online meeting).',
    params: [
      { name: 'Identity', type: 'string', required: true, position: 0, help: 'The mailbox owner (UPN or SIP address).' },
      { name: 'Organizer', type: 'switch', help: 'Only meetings the user organized.' },
      ...PAGING_PARAMS,
    ],
    examples: ['npx mms Get-MmsMeeting -Identity lidiah@contoso.com -Organizer', 'npx mms Get-MmsMeeting -Identity meganb@contoso.com -First 20 -Skip 20'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const { first, skip } = pageArgs(a);
      // The mailbox is read whole (the organizer filter needs each object's addresses), so the total is every row read.
      const all = await listMeetings(ctx.db, tenant.id, req(a, 'Identity'), { organizerOnly: bool(a, 'Organizer') }, ctx.now);
      return { kind: 'rows', rows: all.slice(skip, skip + first), page: { total: all.length, skip }, columns: ['Subject', 'StartTime', 'EndTime', 'Organizer', 'Attendees', 'MeetingType', 'OnlineMeetingId'] };
    },
  },
  {
    name: 'Import-MmsCalendar',
    area: 'Meetings',
    synopsis: 'Imports an iCalendar file (Outlook, Google, Apple, Thunderbird) into a mailbox byte for byte; exits 1 when nothing came in.',
    params: [
      { name: 'Identity', type: 'string', required: true, position: 0, help: 'The mailbox owner.' },
      { name: 'Path', type: 'string', required: true, help: 'The .ics file.' },
    ],
    examples: ['npx mms Import-MmsCalendar -Identity lidiah@contoso.com -Path ./lidiah.ics'],
    async run(ctx, a) {
      // Over REST the file is the request body: -Path then names nothing on this machine and is never opened.
      const { bytes, name } = ctx.files ? ctx.files.read('Path') : { bytes: readFileParam('Path', req(a, 'Path'), 'the .ics file'), name: req(a, 'Path') };
      const { tenant } = await directory(ctx);
      const r = await importCalendar(ctx.db, tenant.id, req(a, 'Identity'), bytes, ctx.now, name);
      return {
        kind: 'object',
        value: { Imported: r.imported, Replaced: r.replaced, OnlineMeetings: r.onlineMeetings, Problems: r.problems.map((p) => p.message) },
        failure: nothingImported(name, r.imported + r.replaced, r.problems.length),
      };
    },
  },
  {
    name: 'Export-MmsCalendar',
    area: 'Meetings',
    synopsis: 'Writes a mailbox back as one iCalendar file (- for standard output).',
    params: [
      { name: 'Identity', type: 'string', required: true, position: 0, help: 'The mailbox owner.' },
      { name: 'Path', type: 'string', required: true, help: 'Where to write, or - for standard output.' },
    ],
    examples: ['npx mms Export-MmsCalendar -Identity lidiah@contoso.com -Path - > lidiah.ics'],
    async run(ctx, a) {
      // Over REST the file is the answer (the caller writes it on its own machine): nothing is written here.
      const path = ctx.files ? '-' : req(a, 'Path');
      if (path !== '-') checkWritableFile('Path', path);
      const { tenant } = await directory(ctx);
      const text = await exportCalendar(ctx.db, tenant.id, req(a, 'Identity'), ctx.now);
      if (ctx.files) {
        ctx.files.write('Path', text);
        return { kind: 'none' };
      }
      if (path === '-') {
        ctx.stdout.write(text);
        return { kind: 'none' };
      }
      return { kind: 'message', text: writeFileParam('Path', path, text) };
    },
  },
];
