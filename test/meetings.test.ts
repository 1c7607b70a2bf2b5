// Scheduling meetings as the add-in does, and importing / exporting real calendars through the mailbox store,
// on both databases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TEST_DATABASES } from './helpers/databases.js';
import { newBridge, newTenant, newUser, setLicense, type DirectoryContext } from '../src/directory/index.js';
import { exportCalendar, importCalendar, listMeetings, scheduleMeeting } from '../src/meetings/index.js';
import { BuiltinMailboxStore } from '../src/mailbox/index.js';
import { indexObject, splitCalendar } from '../src/ical/index.js';
import { findUser } from '../src/store/directory-repo.js';
import type { Db } from '../src/store/index.js';

const T0 = Date.UTC(2026, 10, 2, 9);
const now = () => T0;
const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'ics');
/** What python-icalendar (not our parser) reads from a file: each VCALENDAR's PRODID and its VEVENT UIDs. */
function readIndependently(text: string): Array<{ prodid: string; uids: string[] }> {
  const script = [
    'import sys, json, icalendar',
    'cals = icalendar.Calendar.from_ical(sys.stdin.buffer.read(), multiple=True)',
    'print(json.dumps([{"prodid": str(c.get("PRODID")), "uids": [str(e.get("UID")) for e in c.walk("VEVENT")]} for c in cals]))',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `python-icalendar could not read the export: ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<{ prodid: string; uids: string[] }>;
}

const CLIENT_FILES = ['outlook-teams.ics', 'google-calendar.ics', 'apple-calendar.ics', 'thunderbird.ics', 'recurring-series.ics', 'rtl-combining.ics'];

async function world(db: Db) {
  const ctx: DirectoryContext = { db, actor: 'test', now, migrationDelayMs: 0 };
  const tenant = await newTenant(ctx, { name: 'Contoso', domains: ['contoso.com'] });
  await newBridge(ctx, tenant.id, { name: 'US', tollNumbers: ['+14255550100 (Seattle)'], tollFreeNumbers: ['+18005550199 (United States)'] });
  const amy = await newUser(ctx, tenant.id, { userPrincipalName: 'amy@contoso.com', displayName: 'Amy Shaw', preferredLanguage: 'fr-FR' });
  await setLicense(ctx, tenant.id, amy.upn, { add: ['AudioConferencing'] });
  const ken = await newUser(ctx, tenant.id, { userPrincipalName: 'ken@contoso.com', displayName: 'Ken Miller' });
  const far = await newUser(ctx, tenant.id, { userPrincipalName: 'far@contoso.com', displayName: 'On-prem mailbox', mailboxLocation: 'OnPremises' });
  return { tenant, amy, ken, far };
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: meetings`, { skip: t.skip }, () => {
    it('New-MmsMeeting writes the block in the organizer\'s language with CONFERENCE and metadata, and gives internal attendees their copy', async () => {
      const { db, drop } = await t.fresh();
      try {
        const { tenant, amy, ken, far } = await world(db);
        const r = await scheduleMeeting(db, tenant.id, {
          organizer: amy.upn, subject: 'Revue 🎉', start: T0 + 86_400_000, end: T0 + 86_400_000 + 1_800_000,
          attendees: [ken.upn, far.upn, 'partner@fabrikam.com'], body: 'Bonjour 会議 שלום', recurrence: 'FREQ=WEEKLY;COUNT=4', timeZone: 'Europe/Paris',
        }, now);
        assert.equal(r.internalCopies, 1);
        assert.equal(r.externalAttendees, 1);
        assert.match(r.joinUrl, /^https:\/\/meet\.contoso\.com\/amy\/[A-Z2-9]{8}$/);
        const store = new BuiltinMailboxStore(db.kysely, tenant.id, now);
        const mine = await store.get(amy.id, r.uid);
        const theirs = await store.get(ken.id, r.uid);
        assert.ok(mine && theirs);
        assert.equal(theirs.ics, mine.ics);
        assert.equal(await store.get(far.id, r.uid), undefined, 'an on-premises mailbox gets no copy');
        const ix = indexObject(mine.ics);
        assert.equal(ix.organizer, 'amy@contoso.com');
        assert.deepEqual(ix.attendees.map((a) => a.address).sort(), ['far@contoso.com', 'ken@contoso.com', 'partner@fabrikam.com']);
        assert.equal(ix.xProps['X-MMS-ONLINE-MEETING-ID'], r.meetingId);
        assert.equal(mine.onlineMeetingId, r.meetingId);
        assert.equal(mine.lastEnd, T0 + 86_400_000 + 3 * 7 * 86_400_000 + 1_800_000);
        const unfolded = mine.ics.replace(/\r\n[ \t]/g, '');
        assert.match(unfolded, /DESCRIPTION:Bonjour 会議 שלום\\n\\n_{80}\\nRejoindre la réunion en ligne/);
        assert.match(unfolded, /CONFERENCE;VALUE=URI;FEATURE=PHONE;LABEL=[^:]*:tel:\+14255550100,,\d+%23/);
        assert.match(unfolded, /X-ALT-DESC;FMTTYPE=text\/html:.*mms-online-meeting/);
        for (const line of mine.ics.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75, `line longer than 75 octets: ${line}`);
      } finally {
        await drop();
      }
    });

    it('New-MmsMeeting refuses bad input with one line naming the fix', async () => {
      const { db, drop } = await t.fresh();
      try {
        const { tenant, amy } = await world(db);
        const base = { organizer: amy.upn, subject: 'x', start: T0, end: T0 + 1000 };
        await assert.rejects(scheduleMeeting(db, tenant.id, { ...base, end: T0 }, now), /End must be after Start/);
        await assert.rejects(scheduleMeeting(db, tenant.id, { ...base, attendees: ['not-an-address'] }, now), /not a mail address/);
        await assert.rejects(scheduleMeeting(db, tenant.id, { ...base, recurrence: 'WEEKLY' }, now), /not an RRULE/);
        await assert.rejects(scheduleMeeting(db, tenant.id, { ...base, timeZone: 'Mars/Olympus' }, now), /not an IANA time zone/);
        await assert.rejects(scheduleMeeting(db, tenant.id, { ...base, organizer: 'nobody@contoso.com' }, now), /no user 'nobody@contoso.com'/);
        await assert.rejects(scheduleMeeting(db, tenant.id, { ...base, organizer: 'far@contoso.com' }, now), /mailbox of far@contoso.com is on-premises/);
        assert.equal((await listMeetings(db, tenant.id, amy.upn, {}, now)).length, 0);
      } finally {
        await drop();
      }
    });

    for (const file of CLIENT_FILES) {
      it(`imports and exports ${file} byte for byte`, async () => {
        const { db, drop } = await t.fresh();
        try {
          const { tenant, ken } = await world(db);
          const bytes = fs.readFileSync(path.join(FIXTURES, file));
          const r = await importCalendar(db, tenant.id, ken.upn, bytes, now);
          assert.deepEqual(r.problems, []);
          assert.equal(r.imported, splitCalendar(bytes.toString('utf8')).objects.length);
          const out = await exportCalendar(db, tenant.id, ken.upn, now);
          assert.equal(out, bytes.toString('utf8').replace(/^\uFEFF/, ''));
          // Importing again replaces each object instead of adding a second copy.
          const again = await importCalendar(db, tenant.id, ken.upn, bytes, now);
          assert.equal(again.imported, 0);
          assert.equal(again.replaced, r.imported);
          assert.equal(await exportCalendar(db, tenant.id, ken.upn, now), out);
        } finally {
          await drop();
        }
      });
    }

    it('Export gives meetings from different calendars each their own calendar lines, and python-icalendar reads every meeting', async () => {
      const { db, drop } = await t.fresh();
      try {
        const { tenant, amy, ken } = await world(db);
        const files = ['google-calendar.ics', 'outlook-teams.ics'].map((f) => fs.readFileSync(path.join(FIXTURES, f), 'utf8'));
        for (const text of files) assert.deepEqual((await importCalendar(db, tenant.id, ken.upn, Buffer.from(text), now)).problems, []);
        const scheduled = await scheduleMeeting(db, tenant.id, { organizer: amy.upn, subject: 'Sync', start: T0 + 86_400_000, end: T0 + 90_000_000, attendees: [ken.upn] }, now);
        const out = await exportCalendar(db, tenant.id, ken.upn, now);
        // The two imported files come back as they were, followed by the meeting MMS wrote under its own PRODID.
        assert.ok(out.startsWith(files.join('')), 'each imported file keeps its own VCALENDAR lines');
        const read = readIndependently(out);
        assert.deepEqual(read.map((c) => c.prodid), [
          ...files.map((f) => /^PRODID:(.*?)\r?$/m.exec(f)?.[1]),
          /^PRODID:(.*?)\r?$/m.exec(out.slice(files.join('').length))?.[1],
        ]);
        assert.deepEqual(read.map((c) => [...new Set(c.uids)]), [
          ...files.map((f) => splitCalendar(f).objects.map((o) => o.uid)),
          [scheduled.uid],
        ]);
      } finally {
        await drop();
      }
    });

    it('recognizes an Exchange export\'s Skype/Teams block as an online meeting', async () => {
      const { db, drop } = await t.fresh();
      try {
        const { tenant, ken } = await world(db);
        const r = await importCalendar(db, tenant.id, ken.upn, fs.readFileSync(path.join(FIXTURES, 'outlook-teams.ics')), now);
        assert.ok(r.onlineMeetings >= 1);
        const rows = await listMeetings(db, tenant.id, ken.upn, {}, now);
        const online = rows.filter((m) => m.OnlineMeetingId !== '');
        assert.equal(online.length, r.onlineMeetings);
        assert.match(String(online[0]?.OnlineMeetingId), /^https:\/\/|^conf:/);
      } finally {
        await drop();
      }
    });

    it('an import with a broken component brings in the others and names the broken one', async () => {
      const { db, drop } = await t.fresh();
      try {
        const { tenant, ken } = await world(db);
        const good = fs.readFileSync(path.join(FIXTURES, 'thunderbird.ics'), 'utf8');
        const broken = good.replace(/END:VCALENDAR\r?\n?$/, 'BEGIN:VEVENT\r\nUID:broken-1\r\nDTSTART:notadate\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n');
        const r = await importCalendar(db, tenant.id, ken.upn, Buffer.from(broken), now);
        assert.equal(r.imported, splitCalendar(good).objects.length);
        assert.equal(r.problems.length, 1);
        assert.match(r.problems[0]?.message ?? '', /DTSTART/);
        await assert.rejects(importCalendar(db, tenant.id, ken.upn, Buffer.from([0x42, 0x45, 0xff, 0xfe]), now), /UTF-8/);
        assert.ok(await findUser(db.kysely, tenant.id, ken.upn));
      } finally {
        await drop();
      }
    });
  });
}
