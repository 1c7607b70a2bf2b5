// The migration engine, part 3: telling attendees, and what must never be lost. Internal attendees' own copies
// are updated in place (their response, alarms and personal properties stay); external attendees get one iTIP
// REQUEST sent on the organizer's behalf; an edit made while the migration runs survives; -WhatIf writes nothing;
// undo puts the old block back and leaves alone what changed since.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { TEST_DATABASES, type TestDatabase } from './helpers/databases.js';
import { assertValidItip } from './helpers/libical.js';
import {
  DAY, EXTERNAL, NEW_CONFERENCE_ID, SERVICE_ADDRESS, assertStamped, blockIn, eventOf, eventsOf, expectedBlock, linesOutsideBlock, march, withDescription,
  withMigrationFixture as withFixture, withPartstat, type MigrationFixture,
} from './helpers/migration-fixture.js';
import { ACTOR } from './helpers/directory-fixture.js';
import { editEvents } from '../src/ical/index.js';
import { migrateUser, startMigration, undoMigration } from '../src/migration/index.js';
import { runCli } from '../src/cli/run-cli.js';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { listRequests } from '../src/store/requests-repo.js';

const ALARM = 'BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n';

/** What an attendee does to their own copy: answers, sets a reminder, shows as free, files it under a category. */
function personalise(ics: string, address: string, partstat: string): string {
  const answered = editEvents(withPartstat(ics, address, partstat), (e) => {
    e.add('TRANSP', 'TRANSPARENT');
    e.add('CATEGORIES', 'Kunden 🐙');
  });
  return answered.replace('END:VEVENT\r\n', `${ALARM}END:VEVENT\r\n`);
}

const partstatOf = (ics: string, address: string) =>
  eventOf(ics).all('ATTENDEE').find((a) => a.value.toLowerCase() === `mailto:${address}`)?.params['PARTSTAT'];

function capture() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, text: () => text };
}

/**
 * Every test here runs in a fixture whose stored iMIP messages, all of them, are then judged by libical and
 * python-icalendar: whatever a test made MMS send must be a REQUEST every client accepts.
 */
async function withMigrationFixture(t: TestDatabase, fn: (fx: MigrationFixture) => Promise<void>): Promise<void> {
  await withFixture(t, async (fx) => {
    await fn(fx);
    const messages = await fx.messages();
    if (messages.length) assertValidItip(messages, 'stored iMIP message');
  });
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: a migration notifies every attendee once`, { skip: t.skip }, () => {
    it('internal attendees keep their own PARTSTAT, alarms and personal properties in their updated copy', () =>
      withMigrationFixture(t, async (fx) => {
        const s = await fx.schedule({ subject: 'Planning', start: march(12), uid: 'plan@contoso.com', attendees: [fx.upn('ben'), fx.upn('dan'), fx.upn('fay'), EXTERNAL.xena] });
        const ben = await fx.edit('ben', s.uid, (ics) => personalise(ics, fx.upn('ben'), 'ACCEPTED'));
        const dan = await fx.edit('dan', s.uid, (ics) => withPartstat(ics, fx.upn('dan'), 'TENTATIVE'));
        await fx.retarget();
        fx.clock.advance(DAY);
        const request = await fx.migrate();

        const benNow = (await fx.get('ben', s.uid)).ics;
        assert.equal(partstatOf(benNow, fx.upn('ben')), 'ACCEPTED');
        assert.ok(benNow.includes(`\r\n${ALARM}END:VEVENT\r\n`), 'the alarm is gone');
        assert.deepEqual([eventOf(benNow).get('TRANSP'), eventOf(benNow).get('CATEGORIES')], ['TRANSPARENT', 'Kunden 🐙']);
        assert.deepEqual(linesOutsideBlock(benNow), linesOutsideBlock(ben.ics));
        assert.equal(blockIn(eventOf(benNow).get('DESCRIPTION')), expectedBlock(s.joinUrl));
        const danNow = (await fx.get('dan', s.uid)).ics;
        assert.equal(partstatOf(danNow, fx.upn('dan')), 'TENTATIVE');
        assert.deepEqual(linesOutsideBlock(danNow), linesOutsideBlock(dan.ics));
        assert.equal(blockIn(eventOf(danNow).get('DESCRIPTION')), expectedBlock(s.joinUrl));
        // Each rewritten copy says when it changed (RFC 5545 §3.8.7.2–3.8.7.3): the migration's time, not the invitation's.
        for (const copy of [benNow, danNow, (await fx.get('amy', s.uid)).ics]) assertStamped(copy, fx.clock.now);

        // Copies updated in place for online mailboxes; fay's mailbox is on-premises, so she gets the iMIP message.
        assert.deepEqual((await fx.notifications(request.correlationId)).map((n) => [n.recipient, n.internal, n.state]), [
          [fx.upn('ben'), true, 'Applied'], [fx.upn('dan'), true, 'Applied'], [fx.upn('fay'), false, 'Queued'], [EXTERNAL.xena, false, 'Queued'],
        ]);
        assert.equal((await fx.history(request.correlationId))[0]?.AttendeesNotified, 4);
      }));

    it('external attendees get one iTIP REQUEST sent by the service on the organizer\'s behalf, responses kept, no new RSVP, same SEQUENCE', () =>
      withMigrationFixture(t, async (fx) => {
        const s = await fx.schedule({ subject: 'Vendor sync', start: march(12), uid: 'vendor@contoso.com', meetingId: 'VND23456' });
        // The organizer's copy has recorded xena's acceptance and yuri's decline.
        const organizerCopy = await fx.edit('amy', s.uid, (ics) => withPartstat(withPartstat(ics, EXTERNAL.xena, 'ACCEPTED'), EXTERNAL.yuri, 'DECLINED'));
        await fx.retarget();
        fx.clock.advance(DAY);
        const request = await fx.migrate();

        const notes = (await fx.notifications(request.correlationId)).filter((n) => !n.internal);
        assert.deepEqual(notes.map((n) => [n.recipient, n.state, n.from, n.sender]), [
          [EXTERNAL.xena, 'Queued', 'amy@contoso.com', SERVICE_ADDRESS], [EXTERNAL.yuri, 'Queued', 'amy@contoso.com', SERVICE_ADDRESS],
        ]);
        assert.equal(new Set(notes.map((n) => n.messageId)).size, 1, 'one message shared by the external recipients');
        const message = notes[0]?.ics ?? '';
        assert.ok(message.startsWith('BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n'), message.slice(0, 60));
        assert.equal(message.match(/^METHOD:/gm)?.length, 1);
        const e = eventOf(message);
        const organizer = e.all('ORGANIZER')[0];
        assert.equal(organizer?.value, 'mailto:amy@contoso.com');
        assert.equal(organizer?.params['SENT-BY'], `mailto:${SERVICE_ADDRESS}`);
        assert.equal(organizer?.params['CN'], 'Amy');
        assert.deepEqual(e.all('ATTENDEE').map((a) => [a.value, a.params['PARTSTAT'], a.params['RSVP']]), [
          ['mailto:ben@contoso.com', 'NEEDS-ACTION', 'FALSE'], [`mailto:${EXTERNAL.xena}`, 'ACCEPTED', 'FALSE'], [`mailto:${EXTERNAL.yuri}`, 'DECLINED', 'FALSE'],
        ]);
        assert.equal(e.get('SEQUENCE'), eventOf(organizerCopy.ics).get('SEQUENCE'));
        assert.equal(e.get('SEQUENCE'), '0');
        assert.equal(e.get('DTSTAMP'), '20250304T090100Z');
        assert.deepEqual([e.get('DTSTART'), e.get('DTEND'), e.get('SUMMARY'), e.get('UID')], ['20250312T100000Z', '20250312T110000Z', 'Vendor sync', s.uid]);
        assert.equal(blockIn(e.get('DESCRIPTION')), expectedBlock('https://meet.contoso.com/amy/VND23456'));
        assert.equal(await fx.db.kysely.selectFrom('outbox_messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)), 1);
      }));

    it('an attendee invited to one occurrence only is notified and their copy of it gets the new block', () =>
      withMigrationFixture(t, async (fx) => {
        const master = await fx.addInIcs({ uid: 'weekly@contoso.com', subject: 'Weekly', start: march(10), rrule: 'FREQ=WEEKLY;COUNT=4', attendees: ['ben', EXTERNAL.xena], meetingId: 'WKL23456' });
        // On 17 March dan and zed join that one occurrence (moved to noon): only the exception lists them.
        const exception = editEvents(master, (e) => {
          e.remove('RRULE');
          e.add('RECURRENCE-ID', '20250317T100000Z');
          e.set('DTSTART', '20250317T120000Z');
          e.set('DTEND', '20250317T130000Z');
          e.add('ATTENDEE', 'mailto:dan@contoso.com', { CN: 'Dan', ROLE: 'REQ-PARTICIPANT', PARTSTAT: 'NEEDS-ACTION', RSVP: 'TRUE' });
          e.add('ATTENDEE', 'mailto:zed@example.net', { ROLE: 'REQ-PARTICIPANT', PARTSTAT: 'NEEDS-ACTION', RSVP: 'TRUE' });
        });
        await fx.importInto(['amy', 'ben'], master + exception);
        await fx.importInto(['dan'], exception);
        await fx.retarget();
        const request = await fx.migrate();

        assert.deepEqual((await fx.notifications(request.correlationId)).map((n) => [n.recipient, n.internal]).sort(), [
          [fx.upn('ben'), true], [fx.upn('dan'), true], [EXTERNAL.xena, false], ['zed@example.net', false],
        ]);
        // zed is told of 17 March only (RFC 5546 §3.2.2), xena of the whole series.
        const notes = await fx.notifications(request.correlationId);
        assert.deepEqual(eventsOf(notes.find((n) => n.recipient === 'zed@example.net')?.ics ?? '').map((e) => e.recurrenceId), ['20250317T100000Z']);
        assert.deepEqual(eventsOf(notes.find((n) => n.recipient === EXTERNAL.xena)?.ics ?? '').map((e) => e.recurrenceId), [null, '20250317T100000Z']);
        const dan = eventOf((await fx.get('dan', 'weekly@contoso.com')).ics, '20250317T100000Z');
        assert.equal(blockIn(dan.get('DESCRIPTION')), expectedBlock('https://meet.contoso.com/amy/WKL23456'));
      }));

    it('an attendee listed twice is notified once and does not stop the other meetings', () =>
      withMigrationFixture(t, async (fx) => {
        // Clients write the same attendee twice now and then (here once with another case).
        await fx.importInto(['amy'], await fx.addInIcs({ uid: 'twice@contoso.com', subject: 'Twice', start: march(12), attendees: ['ben', EXTERNAL.xena, 'Xena@Fabrikam.com'] }));
        const other = await fx.schedule({ subject: 'Other', start: march(13), uid: 'other@contoso.com' });
        await fx.retarget();
        const request = await fx.migrate();

        assert.equal(blockIn(eventOf((await fx.get('amy', other.uid)).ics).get('DESCRIPTION')), expectedBlock(other.joinUrl), request.lastMessage);
        assert.equal(request.state, 'Succeeded', request.lastMessage);
        assert.deepEqual((await fx.notifications(request.correlationId)).filter((n) => n.uid === 'twice@contoso.com').map((n) => n.recipient), [fx.upn('ben'), EXTERNAL.xena]);
        assert.equal(blockIn(eventOf((await fx.get('amy', 'twice@contoso.com')).ics).get('DESCRIPTION')), expectedBlock('https://meet.contoso.com/amy/MTWICECO'));
      }));

    it('an edit made between planning and writing is kept, the block is still replaced, and each meeting is announced once', () =>
      withMigrationFixture(t, async (fx) => {
        const a = await fx.schedule({ subject: 'Budget', start: march(10), uid: 'a@contoso.com' });
        const b = await fx.schedule({ subject: 'Hiring', start: march(11), uid: 'b@contoso.com', body: 'Candidates: see the list.' });
        const c = await fx.schedule({ subject: 'Retro', start: march(12), uid: 'c@contoso.com' });
        await fx.retarget();
        const [queued] = await startMigration(fx.db, await fx.currentTenant(), [fx.upn('amy')], { actor: ACTOR, now: () => fx.clock.now });
        assert.ok(queued?.status === 'Queued');
        let edits = 0;
        const { results } = await migrateUser({
          db: fx.db,
          now: () => fx.clock.now,
          serviceAddress: SERVICE_ADDRESS,
          beforeWrite: async (uids) => {
            if (edits++) return;
            assert.deepEqual(uids, [a.uid, b.uid, c.uid]);
            await fx.edit('amy', a.uid, (ics) => editEvents(ics, (e) => e.set('SUMMARY', 'Budget (moved to room 5)')));
            await fx.edit('amy', b.uid, (ics) => withDescription(ics, (d) => `Please read the pre-read first.\n${d}`));
          },
        }, { correlationId: queued.correlationId, tenantId: fx.tenant.id, userId: queued.userId });

        assert.equal(edits, 1);
        assert.deepEqual(results.map((r) => [r.uid, r.action]).sort(), [[a.uid, 'Updated'], [b.uid, 'Updated'], [c.uid, 'Updated']]);
        const aNow = await fx.get('amy', a.uid);
        assert.equal(eventOf(aNow.ics).get('SUMMARY'), 'Budget (moved to room 5)');
        assert.equal(blockIn(eventOf(aNow.ics).get('DESCRIPTION')), expectedBlock(a.joinUrl));
        assert.equal(aNow.version, 3);
        const bNow = await fx.get('amy', b.uid);
        assert.ok((eventOf(bNow.ics).get('DESCRIPTION') ?? '').startsWith('Please read the pre-read first.\nCandidates: see the list.\n\n'));
        assert.equal(blockIn(eventOf(bNow.ics).get('DESCRIPTION')), expectedBlock(b.joinUrl));

        const notes = await fx.notifications(queued.correlationId);
        for (const uid of [a.uid, b.uid, c.uid]) {
          assert.deepEqual(notes.filter((n) => n.uid === uid).map((n) => n.recipient), [fx.upn('ben'), EXTERNAL.xena, EXTERNAL.yuri], uid);
        }
        assert.equal(eventOf(notes.find((n) => n.uid === a.uid && !n.internal)?.ics ?? '').get('SUMMARY'), 'Budget (moved to room 5)');
        assert.deepEqual((await fx.history(queued.correlationId)).map((r) => [r.Uid, r.Action]).sort(), [[a.uid, 'Updated'], [b.uid, 'Updated'], [c.uid, 'Updated']]);
      }));
  });

  describe(`${t.name}: -WhatIf writes nothing`, { skip: t.skip }, () => {
    it('a preview of migrateUser plans every meeting and leaves every table as it was', () =>
      withMigrationFixture(t, async (fx) => {
        const s = await fx.schedule({ subject: 'Future', start: march(12), uid: 'future@contoso.com' });
        await fx.schedule({ subject: 'Past', start: march(1), uid: 'past@contoso.com' });
        await fx.retarget();
        const before = await fx.snapshot();
        const { results, counts } = await migrateUser({ db: fx.db, now: () => fx.clock.now, preview: true }, { correlationId: 'preview', tenantId: fx.tenant.id, userId: await fx.userId('amy') });

        assert.deepEqual(results.map((r) => [r.uid, r.action]), [['past@contoso.com', 'Skipped'], [s.uid, 'Updated']]);
        assert.equal(results[1]?.newBlock, expectedBlock(s.joinUrl));
        assert.match(results[1]?.oldBlock ?? '', /\+1 425-555-0100 \(Seattle\) Toll/);
        assert.deepEqual(counts, { totalMeeting: 2, succeededMeeting: 1, failedMeeting: 0, skippedMeeting: 1, invitesUpdate: 1 });
        assert.deepEqual(await fx.snapshot(), before);
      }));

    it('Start-CsExMeetingMigration -WhatIf shows each meeting with its block diff and writes nothing', () =>
      withMigrationFixture(t, async (fx) => {
        const s = await fx.schedule({ subject: 'Future', start: march(12), uid: 'future@contoso.com' });
        await fx.importInto(['amy'], await fx.addInIcs({ uid: 'pasted@contoso.com', subject: 'Pasted', start: march(13), metadata: false }));
        await fx.retarget();
        const before = await fx.snapshot();
        const out = capture();
        const err = capture();
        const code = await runCli(['Start-CsExMeetingMigration', '-Identity', fx.upn('amy'), '-WhatIf', '--json'], {
          stdout: out.stream, stderr: err.stream, isTty: false, now: () => fx.clock.now,
          env: { MMS_DATABASE_URL: fx.url, MMS_ACTOR: ACTOR },
        }, CMDLETS);

        assert.equal(err.text(), '');
        assert.equal(code, 0);
        const rows = JSON.parse(out.text()) as Array<Record<string, string>>;
        assert.deepEqual(rows.map((r) => [r['Organizer'], r['Uid'], r['Action']]), [['amy@contoso.com', s.uid, 'WouldUpdate'], ['amy@contoso.com', 'pasted@contoso.com', 'Skipped']]);
        assert.match(rows[0]?.['Diff'] ?? '', new RegExp(`^\\+ Conference ID: ${NEW_CONFERENCE_ID}$`, 'm'));
        assert.match(rows[0]?.['Diff'] ?? '', /^- \+1 425-555-0100 \(Seattle\) Toll$/m);
        assert.match(rows[1]?.['Reason'] ?? '', /^CopiedBlock: /);
        assert.deepEqual(await fx.snapshot(), before);
      }));
  });

  describe(`${t.name}: undo`, { skip: t.skip }, () => {
    it('undo restores the old block in the organizer and attendee copies, notifies again, and leaves alone a meeting changed since', () =>
      withMigrationFixture(t, async (fx) => {
        const a = await fx.schedule({ subject: 'Restore me', start: march(12), uid: 'a@contoso.com' });
        const b = await fx.schedule({ subject: 'Changed since', start: march(13), uid: 'b@contoso.com' });
        await fx.edit('ben', a.uid, (ics) => personalise(ics, fx.upn('ben'), 'ACCEPTED'));
        const original = { amy: await fx.get('amy', a.uid), ben: await fx.get('ben', a.uid) };
        await fx.retarget();
        const request = await fx.migrate();
        assert.equal(request.invitesUpdate, 2);
        fx.clock.advance(DAY);
        const changed = await fx.edit('amy', b.uid, (ics) => editEvents(ics, (e) => e.set('SUMMARY', 'Changed since (room 7)')));

        const undo = await undoMigration(fx.db, await fx.currentTenant(), request.correlationId, { actor: ACTOR, now: () => fx.clock.now, serviceAddress: SERVICE_ADDRESS, force: true });
        assert.equal(undo.restored, 1);
        assert.deepEqual(undo.leftAlone, [{ uid: b.uid, subject: 'Changed since', reason: 'changed since the migration (or deleted); left alone' }]);

        for (const name of ['amy', 'ben'] as const) {
          const now = (await fx.get(name, a.uid)).ics;
          const was = eventOf(original[name].ics);
          const e = eventOf(now);
          for (const p of ['DESCRIPTION', 'X-ALT-DESC', 'LOCATION', 'X-MMS-BLOCK-FINGERPRINT', 'X-MICROSOFT-SKYPETEAMSMEETINGURL']) assert.equal(e.get(p), was.get(p), `${name} ${p}`);
          assert.deepEqual(e.all('CONFERENCE'), was.all('CONFERENCE'));
          assert.deepEqual(linesOutsideBlock(now), linesOutsideBlock(original[name].ics));
        }
        assert.equal(partstatOf((await fx.get('ben', a.uid)).ics, fx.upn('ben')), 'ACCEPTED');
        const bNow = await fx.get('amy', b.uid);
        assert.deepEqual([bNow.ics, bNow.version], [changed.ics, changed.version]);

        const notes = await fx.notifications(undo.correlationId);
        assert.deepEqual(notes.map((n) => [n.uid, n.recipient, n.internal]), [[a.uid, fx.upn('ben'), true], [a.uid, EXTERNAL.xena, false], [a.uid, EXTERNAL.yuri, false]]);
        const message = eventOf(notes[1]?.ics ?? '');
        assert.equal(message.get('DESCRIPTION'), eventOf(original.amy.ics).get('DESCRIPTION'));
        assert.equal(message.all('ORGANIZER')[0]?.params['SENT-BY'], `mailto:${SERVICE_ADDRESS}`);
        assert.deepEqual((await fx.history(undo.correlationId)).map((r) => [r.Uid, r.Action, r.Reason, r.AttendeesNotified]), [
          [a.uid, 'Restored', `restored the block replaced by ${request.correlationId}`, 3],
          [b.uid, 'Skipped', 'NotRestored: changed since the migration (or deleted); left alone', 0],
        ]);
        const undoRequest = (await listRequests(fx.db.kysely, fx.tenant.id)).find((r) => r.correlationId === undo.correlationId);
        assert.deepEqual([undoRequest?.state, undoRequest?.triggerReasons, undoRequest?.lastMessage], [
          'Succeeded', [`Undo:${request.correlationId}`], `undo of ${request.correlationId}: 1 restored, 1 left alone (changed since)`,
        ]);
      }));
  });
}
