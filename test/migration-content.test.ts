// The migration engine, part 2: only the block changes. Text in any script around the block keeps every byte,
// recurring series keep their rules and exceptions, a shared-notes link is carried into the new block, LOCATION
// changes only where it held the old join link, and a block the organizer edited is either overwritten (kept for
// undo) or, with PreserveEditedBlocks, left alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import {
  EXTERNAL, NEW_CONFERENCE_ID, U80, blockIn, contentLines, eventOf, eventsOf, expectedBlock, linesOutsideBlock, march, withDescription,
  withMigrationFixture, type HistoryRow,
} from './helpers/migration-fixture.js';
import { editEvents } from '../src/ical/index.js';
import { moveUser } from '../src/directory/index.js';
import { SKIP_REASONS, undoMigration } from '../src/migration/index.js';
import type { PreviousBlock } from '../src/migration/rewrite-meeting.js';

// Emoji (with skin tone, ZWJ sequences and a flag), CJK, Hangul, Hebrew and Arabic (RTL), and combining marks.
const BEFORE = 'Bonjour 👋🏽 équipe — 東京チームも参加します。\nשלום עולם! مرحبا بالعالم\nCafé naïve (e\u0301), Z\u0324\u0354\u0367\u0311 and 👨‍👩‍👧‍👦\n';
const AFTER = '\n\nAgenda:\n1. 数字 📊 — 한국어 회의\n2. مراجعة الميزانية ‏(RTL)‏\n3. n\u0303 vs ñ 🏳️‍🌈\n';
const NOTES = 'https://contoso.sharepoint.com/sites/notes/q3-review';

function only(rows: readonly HistoryRow[], uid: string): HistoryRow {
  const hits = rows.filter((r) => r.Uid === uid);
  assert.equal(hits.length, 1, `one ledger row for ${uid}: ${JSON.stringify(rows)}`);
  return hits[0] as HistoryRow;
}

/** Every physical line at most 75 octets, and no fold splits a character (a split would not survive UTF-8). */
function assertFoldedWhole(ics: string): void {
  for (const line of ics.split('\r\n')) {
    assert.ok(Buffer.byteLength(line, 'utf8') <= 75, `line longer than 75 octets: ${line}`);
    assert.equal(Buffer.from(line, 'utf8').toString('utf8'), line, `a fold split a character: ${JSON.stringify(line)}`);
  }
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: a migration replaces only the block`, { skip: t.skip }, () => {
    it('text in any script before and after the block keeps every byte and the block is the new one', () =>
      withMigrationFixture(t, async (fx) => {
        const ics = await fx.addInIcs({ uid: 'unicode@contoso.com', subject: 'Ревью Q3 🚀 東京 — שלום', start: march(12), before: BEFORE, after: AFTER, meetingId: 'UNI23456' });
        await fx.importInto(['amy', 'ben'], ics);
        const old = await fx.get('amy', 'unicode@contoso.com');
        const oldDescription = eventOf(old.ics).get('DESCRIPTION') ?? '';
        const oldHtml = eventOf(old.ics).get('X-ALT-DESC') ?? '';
        await fx.retarget();
        const request = await fx.migrate();
        assert.equal(only(await fx.history(request.correlationId), 'unicode@contoso.com').Action, 'Updated');

        for (const name of ['amy', 'ben']) {
          const now = (await fx.get(name, 'unicode@contoso.com')).ics;
          assert.deepEqual(linesOutsideBlock(now), linesOutsideBlock(ics), `${name}: a line outside the block changed`);
          const description = eventOf(now).get('DESCRIPTION') ?? '';
          assert.equal(description, `${BEFORE}\n${expectedBlock('https://meet.contoso.com/amy/UNI23456')}${AFTER}`);
          assert.equal(description.slice(0, description.indexOf(U80)), oldDescription.slice(0, oldDescription.indexOf(U80)));
          assert.equal(description.slice(description.lastIndexOf(U80) + 80), oldDescription.slice(oldDescription.lastIndexOf(U80) + 80));
          const html = eventOf(now).get('X-ALT-DESC') ?? '';
          const open = '<div id="mms-online-meeting"';
          const close = '<!-- mms-online-meeting:end --></div>';
          assert.equal(html.slice(0, html.indexOf(open)), oldHtml.slice(0, oldHtml.indexOf(open)));
          assert.equal(html.slice(html.indexOf(close)), oldHtml.slice(oldHtml.indexOf(close)));
          assert.ok(html.includes('Bonjour 👋🏽 équipe') && html.includes('한국어 회의'));
          assert.match(html, new RegExp(`Conference ID: ${NEW_CONFERENCE_ID}`));
          assertFoldedWhole(now);
        }
        assert.equal(eventOf((await fx.get('amy', 'unicode@contoso.com')).ics).get('SUMMARY'), 'Ревью Q3 🚀 東京 — שלום');
      }));

    it('a weekly series begun in the past gets the new block in its master and exceptions; the cancelled one stays cancelled and RRULE and EXDATE stay', () =>
      withMigrationFixture(t, async (fx) => {
        // Mondays 10:00 UTC from 17 February, eight times; 10 March moved to Tuesday 14:00, 17 March cancelled, 31 March excluded.
        const master = await fx.addInIcs({ uid: 'weekly@contoso.com', subject: 'Weekly 1:1', start: Date.UTC(2025, 1, 17, 10), rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=8', meetingId: 'WKL23456' });
        const exception = (recurrenceId: string, start: string, end: string, cancelled: boolean) => editEvents(master, (e) => {
          e.remove('RRULE');
          e.add('RECURRENCE-ID', recurrenceId);
          e.set('DTSTART', start);
          e.set('DTEND', end);
          e.set('SEQUENCE', '1');
          if (cancelled) e.add('STATUS', 'CANCELLED');
        });
        const ics = editEvents(master, (e) => e.add('EXDATE', '20250331T100000Z'))
          + exception('20250310T100000Z', '20250311T140000Z', '20250311T150000Z', false)
          + exception('20250317T100000Z', '20250317T100000Z', '20250317T110000Z', true);
        await fx.importInto(['amy', 'ben'], ics);
        const before = { amy: await fx.get('amy', 'weekly@contoso.com'), ben: await fx.get('ben', 'weekly@contoso.com') };
        assert.deepEqual(eventsOf(before.amy.ics).map((e) => e.recurrenceId), [null, '20250310T100000Z', '20250317T100000Z']);
        await fx.retarget();
        const request = await fx.migrate();

        const row = only(await fx.history(request.correlationId), 'weekly@contoso.com');
        assert.deepEqual([row.Action, row.AttendeesNotified], ['Updated', 2]);
        const newBlock = expectedBlock('https://meet.contoso.com/amy/WKL23456');
        for (const name of ['amy', 'ben'] as const) {
          const now = await fx.get(name, 'weekly@contoso.com');
          const events = eventsOf(now.ics);
          assert.deepEqual(events.map((e) => e.recurrenceId), [null, '20250310T100000Z', '20250317T100000Z']);
          for (const e of events) {
            assert.equal(blockIn(e.get('DESCRIPTION')), newBlock, `${name} ${e.recurrenceId ?? 'master'}`);
            assert.ok(e.all('CONFERENCE').some((c) => c.value === `tel:+442075550100,,${NEW_CONFERENCE_ID}%23`));
          }
          assert.deepEqual(events.map((e) => e.get('STATUS')), [null, null, 'CANCELLED']);
          assert.equal(events[0]?.get('RRULE'), 'FREQ=WEEKLY;BYDAY=MO;COUNT=8');
          assert.equal(events[0]?.get('EXDATE'), '20250331T100000Z');
          // RRULE, EXDATE, RECURRENCE-ID, DTSTART, STATUS, SEQUENCE…: every line outside the block, byte for byte.
          assert.deepEqual(linesOutsideBlock(now.ics), linesOutsideBlock(before[name].ics));
          assert.deepEqual([now.firstStart, now.lastEnd], [before[name].firstStart, before[name].lastEnd]);
        }
        const message = (await fx.notifications(request.correlationId)).find((n) => n.recipient === EXTERNAL.xena)?.ics ?? '';
        // The cancelled occurrence is not in the REQUEST (RFC 5546 §3.2.2); the master excludes it instead.
        assert.equal(message.match(/^RECURRENCE-ID:/gm)?.length, 1);
        assert.deepEqual(eventOf(message).all('EXDATE').map((x) => x.value), ['20250331T100000Z', '20250317T100000Z']);
        // The text and the HTML block of each of the two VEVENTs.
        assert.equal(message.match(/Conference ID: 4242424/g)?.length, 4);
        assert.doesNotMatch(message, /425-555-0100/);

        // Undo finds each component by its RECURRENCE-ID and puts its old block back.
        const undo = await undoMigration(fx.db, await fx.currentTenant(), request.correlationId, { actor: 'admin@contoso.com', now: () => fx.clock.now, force: true });
        assert.deepEqual([undo.restored, undo.leftAlone], [1, []]);
        for (const name of ['amy', 'ben'] as const) {
          const now = eventsOf((await fx.get(name, 'weekly@contoso.com')).ics);
          const was = eventsOf(before[name].ics);
          assert.deepEqual(now.map((e) => e.get('DESCRIPTION')), was.map((e) => e.get('DESCRIPTION')));
          assert.deepEqual(now.map((e) => e.get('X-ALT-DESC')), was.map((e) => e.get('X-ALT-DESC')));
          assert.deepEqual(now.map((e) => e.all('CONFERENCE')), was.map((e) => e.all('CONFERENCE')));
        }
      }));

    it('a shared-notes link in the old block is carried into the new one', () =>
      withMigrationFixture(t, async (fx) => {
        await fx.importInto(['amy'], await fx.addInIcs({ uid: 'notes@contoso.com', subject: 'Q3 review', start: march(12), sharedNotesUrl: NOTES, meetingId: 'NTS23456' }));
        assert.match(blockIn(eventOf((await fx.get('amy', 'notes@contoso.com')).ics).get('DESCRIPTION')), /Shared meeting notes: https:\/\/contoso\.sharepoint\.com/);
        await fx.retarget();
        await fx.migrate();

        const e = eventOf((await fx.get('amy', 'notes@contoso.com')).ics);
        assert.equal(blockIn(e.get('DESCRIPTION')), expectedBlock('https://meet.contoso.com/amy/NTS23456', { sharedNotesUrl: NOTES }));
        assert.match(e.get('X-ALT-DESC') ?? '', new RegExp(`<a href="${NOTES}">Shared meeting notes</a>`));
      }));

    it('LOCATION changes only where it held the old join link, and conference entries the organizer added stay', () =>
      withMigrationFixture(t, async (fx) => {
        const withRoom = await fx.schedule({ organizer: fx.upn('cara'), subject: 'Room and link', start: march(12), uid: 'room@contoso.com', meetingId: 'LOC23456' });
        const roomOnly = await fx.schedule({ organizer: fx.upn('cara'), subject: 'Room only', start: march(13), uid: 'roomonly@contoso.com', meetingId: 'LOC34567' });
        assert.equal(withRoom.joinUrl, 'https://meet.onprem.contoso.com/cara/LOC23456');
        await fx.edit('cara', withRoom.uid, (ics) => editEvents(ics, (e) => e.set('LOCATION', `Room 4.1 (Building 25); ${withRoom.joinUrl}`)));
        await fx.edit('cara', roomOnly.uid, (ics) => editEvents(ics, (e) => {
          e.set('LOCATION', 'Room 4.1 (Building 25)');
          // Conference entries of the organizer's own, not of the block: a team chat and the room's phone.
          e.add('CONFERENCE', 'https://chat.contoso.com/rooms/42', { VALUE: 'URI', FEATURE: 'CHAT', LABEL: 'Team chat' });
          e.add('CONFERENCE', 'tel:+15555550123', { VALUE: 'URI', FEATURE: 'PHONE', LABEL: 'Room 4.1' });
        }));
        const roomOnlyBefore = contentLines((await fx.get('cara', roomOnly.uid)).ics).filter((l) => l.name === 'LOCATION');
        await moveUser(fx.ctx, fx.tenant.id, fx.upn('cara'), 'Online');
        const request = await fx.migrate('cara');

        const rows = await fx.history(request.correlationId, 'cara');
        assert.deepEqual([only(rows, withRoom.uid).Action, only(rows, roomOnly.uid).Action], ['Updated', 'Updated']);
        const e = eventOf((await fx.get('cara', withRoom.uid)).ics);
        assert.equal(e.get('LOCATION'), 'Room 4.1 (Building 25); https://meet.contoso.com/cara/LOC23456');
        assert.equal(e.get('X-MICROSOFT-SKYPETEAMSMEETINGURL'), 'https://meet.contoso.com/cara/LOC23456');
        // cara has no audio conferencing online: the on-premises dial-in goes, with its CONFERENCE entries.
        assert.equal(blockIn(e.get('DESCRIPTION')), [U80, 'Join online meeting', 'https://meet.contoso.com/cara/LOC23456', U80].join('\n'));
        assert.deepEqual(e.all('CONFERENCE').map((c) => c.value), ['https://meet.contoso.com/cara/LOC23456']);
        const roomOnlyNow = (await fx.get('cara', roomOnly.uid)).ics;
        assert.deepEqual(contentLines(roomOnlyNow).filter((l) => l.name === 'LOCATION'), roomOnlyBefore);
        assert.deepEqual(eventOf(roomOnlyNow).all('CONFERENCE').map((c) => c.value).sort(), [
          'https://chat.contoso.com/rooms/42', 'https://meet.contoso.com/cara/LOC34567', 'tel:+15555550123',
        ]);
      }));
  });

  describe(`${t.name}: a block the organizer edited`, { skip: t.skip }, () => {
    const edit = (d: string) => d.replace('Join by phone\n', 'Join by phone (US only; ask Amy for the Tokyo number)\n');

    it('a meeting whose block the organizer edited is overwritten and the old block kept for undo', () =>
      withMigrationFixture(t, async (fx) => {
        const s = await fx.schedule({ subject: 'Edited', start: march(12), uid: 'edited@contoso.com', meetingId: 'EDT23456' });
        const edited = await fx.edit('amy', s.uid, (ics) => withDescription(ics, edit));
        const editedBlock = blockIn(eventOf(edited.ics).get('DESCRIPTION'));
        assert.match(editedBlock, /ask Amy for the Tokyo number/);
        await fx.retarget();
        const request = await fx.migrate();

        const row = only(await fx.history(request.correlationId), s.uid);
        assert.equal(row.Action, 'Updated');
        assert.equal(row.Reason, 'EditedBlockOverwritten: the organizer had edited the block; the old block is kept in the history for undo');
        assert.equal(blockIn(eventOf((await fx.get('amy', s.uid)).ics).get('DESCRIPTION')), expectedBlock(s.joinUrl));
        const ledger = await fx.db.kysely.selectFrom('migration_meetings').select(['previous_block', 'version_written'])
          .where('correlation_id', '=', request.correlationId).where('uid', '=', s.uid).executeTakeFirstOrThrow();
        const previous = JSON.parse(ledger.previous_block ?? 'null') as PreviousBlock;
        assert.equal(previous.length, 1);
        assert.equal(previous[0]?.recurrenceId, null);
        assert.equal(previous[0]?.text, editedBlock);
        assert.equal(ledger.version_written, edited.version + 1);

        // Undo puts the organizer's edited block back.
        const undo = await undoMigration(fx.db, await fx.currentTenant(), request.correlationId, { actor: 'admin@contoso.com', now: () => fx.clock.now, force: true });
        assert.deepEqual([undo.restored, undo.leftAlone], [1, []]);
        assert.equal(blockIn(eventOf((await fx.get('amy', s.uid)).ics).get('DESCRIPTION')), editedBlock);
      }));

    it('with PreserveEditedBlocks true a meeting whose block the organizer edited is skipped as EditedBlockPreserved, but not one whose line ends changed', () =>
      withMigrationFixture(t, async (fx) => {
        await fx.settings({ preserveEditedBlocks: true });
        const s = await fx.schedule({ subject: 'Edited', start: march(12), uid: 'edited@contoso.com' });
        const plain = await fx.schedule({ subject: 'Not edited', start: march(13), uid: 'plain@contoso.com' });
        const blanks = await fx.schedule({ subject: 'Blanks', start: march(14), uid: 'blanks@contoso.com' });
        const edited = await fx.edit('amy', s.uid, (ics) => withDescription(ics, edit));
        // Line ends and trailing blanks are what mail clients and servers change without anyone editing.
        await fx.edit('amy', blanks.uid, (ics) => withDescription(ics, (d) => d.replace('Join by phone\n', 'Join by phone  \r\n')));
        await fx.retarget();
        const request = await fx.migrate();

        const rows = await fx.history(request.correlationId);
        const row = only(rows, s.uid);
        assert.deepEqual([row.Action, row.Reason, row.AttendeesNotified], ['Skipped', `EditedBlockPreserved: ${SKIP_REASONS.EditedBlockPreserved}`, 0]);
        const now = await fx.get('amy', s.uid);
        assert.deepEqual([now.ics, now.version], [edited.ics, edited.version]);
        assert.deepEqual((await fx.notifications(request.correlationId)).filter((n) => n.uid === s.uid), []);
        assert.equal(only(rows, plain.uid).Action, 'Updated');
        assert.deepEqual([only(rows, blanks.uid).Action, only(rows, blanks.uid).Reason], ['Updated', 'BlockReplaced']);
        assert.equal(blockIn(eventOf((await fx.get('amy', blanks.uid)).ics).get('DESCRIPTION')), expectedBlock(blanks.joinUrl));
        assert.equal(request.state, 'Succeeded');
      }));
  });
}
