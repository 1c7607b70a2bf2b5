// Issue 8 §2/§4/§6: migrating meetings that live on a real CalDAV server (Radicale, Debian package) on both
// databases: the calendar-query listing, If-Match writes, the edit made meanwhile (412) kept, a deleted meeting
// (404) recorded, the Radicale comma problem, attendees' own copies on the same server, iMIP for everyone else,
// exactly-once across a PUT when recording fails after it, and the one-way rule when the server schedules.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { TEST_DATABASES } from './helpers/databases.js';
import { withCalDav, type CalDavFixture } from './helpers/caldav-fixture.js';
import { RADICALE_SKIP } from './helpers/radicale.js';
import { blockIn, eventOf, expectedBlock, EXTERNAL, march, NEW_CONFERENCE_ID, withDescription } from './helpers/migration-fixture.js';
import { personalFor, personalOf } from './helpers/personal-copy.js';
import { assertValidItip } from './helpers/libical.js';
import { runMms } from './helpers/cli-run.js';
import { undoMigration } from '../src/migration/index.js';

const JOIN = (id: string) => `https://meet.contoso.com/amy/${id}`;
const CONFERENCES = (id: string) => [JOIN(id), `tel:+442075550100,,${NEW_CONFERENCE_ID}%23`, `tel:+448005550100,,${NEW_CONFERENCE_ID}%23`];


const history = async (c: CalDavFixture, correlationId: string) =>
  (await c.fx.history(correlationId)).map((r) => [r.Uid, r.Action, r.Reason.split(':')[0], r.AttendeesNotified]);

for (const t of TEST_DATABASES) {
  describe(`${t.name}: meetings on a CalDAV server (Radicale)`, { skip: t.skip ?? RADICALE_SKIP }, () => {
    it('updates the organizer\'s future meetings, keeps attendees\' own copies, mails the rest, and a second run changes nothing', () =>
      withCalDav(t, async (c) => {
        const { fx } = c;
        const one = await c.meeting({ subject: 'Review', start: march(10), uid: 'review@contoso.com', meetingId: 'RVW23456' });
        const series = await c.meeting({ subject: 'Standup', start: Date.UTC(2025, 1, 3, 9), recurrence: 'FREQ=WEEKLY;COUNT=10', uid: 'standup@contoso.com', meetingId: 'STD23456' });
        const past = await c.meeting({ subject: 'Kick-off', start: march(1), uid: 'past@contoso.com', meetingId: 'PST23456' });
        const pastBefore = await c.object('amy', past);
        await fx.retarget();
        const request = await c.migrate();
        assert.equal(request.state, 'Succeeded', request.lastMessage ?? '');
        const rows = await history(c, request.correlationId);
        assert.deepEqual(rows.sort(), [[one, 'Updated', 'BlockReplaced', 4], [series, 'Updated', 'BlockReplaced', 4]].sort());

        for (const [uid, id] of [[one, 'RVW23456'], [series, 'STD23456']] as const) {
          const stored = await c.object('amy', uid);
          assert.ok(stored);
          // What Radicale keeps: the conference ID survives because MMS wrote the commas as %2C (vobject cuts at ',').
          assert.match(stored.ics.replace(/\r?\n[ \t]/g, ''), new RegExp(`CONFERENCE[^\\r\\n]*:tel:\\+442075550100%2C%2C${NEW_CONFERENCE_ID}%23`));
          assert.match(stored.ics, /X-MMS-MIGRATION:/);
          const e = eventOf(stored.ics.replace(/%2C/g, ','));
          assert.equal(blockIn(e.get('DESCRIPTION')), expectedBlock(JOIN(id)));
          assert.deepEqual(e.all('CONFERENCE').map((x) => x.value), CONFERENCES(id));
          // Ben's copy: new block, his response, reminder and category kept.
          const ben = await c.object('ben', uid);
          assert.ok(ben);
          assert.equal(blockIn(eventOf(ben.ics.replace(/%2C/g, ',')).get('DESCRIPTION')), expectedBlock(JOIN(id)));
          assert.deepEqual(personalOf(ben.ics, fx.upn('ben')), personalFor(fx.upn('ben'), 1));
          const dan = await c.object('dan', uid);
          assert.equal(blockIn(eventOf((dan?.ics ?? '').replace(/%2C/g, ',')).get('DESCRIPTION')), expectedBlock(JOIN(id)));
        }
        assert.deepEqual(await c.object('amy', past), pastBefore, 'a past meeting is not touched');
        const sent = await fx.notifications(request.correlationId);
        assert.deepEqual(sent.filter((n) => n.uid === one).map((n) => [n.recipient, n.internal, n.state]).sort(), [
          [fx.upn('ben'), true, 'Applied'], [fx.upn('dan'), true, 'Applied'], [EXTERNAL.xena, false, 'Queued'], [EXTERNAL.yuri, false, 'Queued'],
        ].sort());
        assertValidItip(await fx.messages(), 'iTIP REQUEST of a meeting migrated on CalDAV');
        const intents = await fx.db.kysely.selectFrom('write_intents').selectAll().execute();
        assert.deepEqual(intents, [], 'every intent is cleared once recorded');

        const etags = await Promise.all([one, series].map(async (u) => (await c.object('amy', u))?.etag));
        const puts = c.proxy.count('PUT');
        const again = await c.migrate();
        assert.equal(again.state, 'Succeeded');
        assert.deepEqual((await history(c, again.correlationId)).map((r) => r[1]).sort(), ['UpToDate', 'UpToDate']);
        assert.equal(c.proxy.count('PUT'), puts, 'a second run writes nothing');
        assert.deepEqual(await Promise.all([one, series].map(async (u) => (await c.object('amy', u))?.etag)), etags);
        assert.deepEqual(await fx.notifications(again.correlationId), []);
      }));

    it('Start-CsExMeetingMigration -WhatIf previews a mailbox on the host and writes nothing', () =>
      withCalDav(t, async (c) => {
        const uid = await c.meeting({ subject: 'Preview', start: march(10), uid: 'preview@contoso.com', meetingId: 'PRV23456' });
        await c.fx.retarget();
        await c.moveMailboxes();
        const before = await c.object('amy', uid);
        const r = await runMms({ MMS_DATABASE_URL: c.fx.url, MMS_SECRET_KEY: c.secretKey, MMS_ACTOR: 'admin@contoso.com' }, () => c.fx.clock.now, ['Start-CsExMeetingMigration', '-Identity', c.fx.upn('amy'), '-WhatIf', '--json']);
        assert.equal(r.code, 0, r.err);
        assert.deepEqual((JSON.parse(r.out) as Array<Record<string, unknown>>).map((x) => [x.Uid, x.Action]), [[uid, 'WouldUpdate']]);
        assert.deepEqual(await c.object('amy', uid), before);
        assert.equal(c.proxy.count('PUT'), 0);
      }));

    it('an edit made between the read and the write (412) is kept; a meeting deleted meanwhile (404) is recorded, not an error', () =>
      withCalDav(t, async (c) => {
        const edited = await c.meeting({ subject: 'Edited', start: march(11), uid: 'edited@contoso.com', meetingId: 'EDT23456' });
        const deleted = await c.meeting({ subject: 'Deleted', start: march(12), uid: 'deleted@contoso.com', meetingId: 'DEL23456' });
        await c.fx.retarget();
        let once = false;
        const request = await c.migrate({
          beforeWrite: async () => {
            if (once) return;
            once = true;
            const o = await c.object('amy', edited);
            await c.put('amy', edited, withDescription((o?.ics ?? '').replace(/%2C/g, ','), (d) => `Agenda: bring the numbers\n${d}`));
            await c.remove('amy', deleted);
          },
        });
        assert.equal(request.state, 'Succeeded', request.lastMessage ?? '');
        const rows = await history(c, request.correlationId);
        assert.deepEqual(rows.sort(), [[deleted, 'Skipped', 'MeetingDeleted', 0], [edited, 'Updated', 'BlockReplaced', 4]].sort());
        const e = eventOf(((await c.object('amy', edited))?.ics ?? '').replace(/%2C/g, ','));
        assert.match(e.get('DESCRIPTION') ?? '', /^Agenda: bring the numbers\n/);
        assert.equal(blockIn(e.get('DESCRIPTION')), expectedBlock(JOIN('EDT23456')));
        assert.equal(await c.object('amy', deleted), undefined);
        assert.equal((await c.fx.notifications(request.correlationId)).filter((n) => n.uid === deleted).length, 0);
      }));

    it('a write the server refuses fails that meeting only; an attendee whose copy cannot be written is mailed instead', () =>
      withCalDav(t, async (c) => {
        const { fx } = c;
        const refused = await c.meeting({ subject: 'Refused', start: march(11), uid: 'refused@contoso.com', meetingId: 'RFS23456' });
        const fine = await c.meeting({ subject: 'Fine', start: march(12), uid: 'fine@contoso.com', meetingId: 'FIN23456' });
        const benBefore = await c.object('ben', fine);
        await fx.retarget();
        // 403 for the PUT of one organizer object and for every PUT into ben's calendar (a read-only share).
        c.proxy.intercept = (r) => (r.method === 'PUT' && (r.url.includes('refused%40contoso.com') || r.url.startsWith('/ben/')) ? { status: 403 } : undefined);
        const request = await c.migrate();
        c.proxy.intercept = () => undefined;
        assert.equal(request.state, 'Failed', 'a meeting failed, so the request says so');
        const rows = await history(c, request.correlationId);
        assert.deepEqual(rows.sort(), [[fine, 'Updated', 'BlockReplaced', 4], [refused, 'Failed', 'WriteRefused', 0]].sort());
        assert.match((await fx.history(request.correlationId)).find((h) => h.Uid === refused)?.Reason ?? '', /403 Forbidden/);
        assert.deepEqual(await c.object('ben', fine), benBefore, 'ben\'s copy could not be written');
        const sent = (await fx.notifications(request.correlationId)).map((n) => [n.uid, n.recipient, n.internal, n.state]).sort();
        assert.deepEqual(sent, [
          [fine, fx.upn('ben'), false, 'Queued'], [fine, fx.upn('dan'), true, 'Applied'], [fine, EXTERNAL.xena, false, 'Queued'], [fine, EXTERNAL.yuri, false, 'Queued'],
        ].sort(), 'ben is told by iMIP instead, exactly one way; nothing for the refused meeting');
        assert.deepEqual(await fx.db.kysely.selectFrom('write_intents').selectAll().execute(), []);
      }));

    it('written but not recorded (the commit after the PUT failed): the next attempt records it once and does not write again', () =>
      withCalDav(t, async (c) => {
        const { fx } = c;
        const uid = await c.meeting({ subject: 'Once', start: march(13), uid: 'once@contoso.com', meetingId: 'ONC23456' });
        await fx.retarget();
        await breakLedger(fx.db, t.name, true);
        const first = await c.migrate();
        assert.equal(first.state, 'Pending', `the failed commit is retried: ${first.lastMessage}`);
        const written = await c.object('amy', uid);
        assert.match(written?.ics ?? '', /X-MMS-MIGRATION:/, 'the PUT happened before the commit failed');
        assert.equal((await fx.db.kysely.selectFrom('write_intents').selectAll().execute()).length, 1);
        await breakLedger(fx.db, t.name, false);
        fx.clock.advance(24 * 3_600_000);
        const puts = c.proxy.count('PUT');
        const second = await c.rerun(first.correlationId);
        assert.equal(second.state, 'Succeeded', second.lastMessage ?? '');
        assert.deepEqual(await history(c, first.correlationId), [[uid, 'Updated', 'BlockReplaced', 4]]);
        assert.equal((await c.object('amy', uid))?.etag, written?.etag, 'the organizer\'s object is not written twice');
        assert.equal(c.proxy.count('PUT'), puts, 'nothing is written again: the copies were updated before the commit failed');
        const sent = await fx.notifications(first.correlationId);
        assert.deepEqual(sent.map((n) => n.recipient).sort(), [fx.upn('ben'), fx.upn('dan'), EXTERNAL.xena, EXTERNAL.yuri].sort(), 'each attendee is told exactly once');
        assert.deepEqual(await fx.db.kysely.selectFrom('write_intents').selectAll().execute(), []);
      }));

    it('a wrong password fails the request at once with the fix; a stopped server is retried; 429 waits for Retry-After', () =>
      withCalDav(t, async (c) => {
        await c.meeting({ subject: 'Busy', start: march(14), uid: 'busy@contoso.com', meetingId: 'BSY23456' });
        await c.fx.retarget();
        c.proxy.intercept = (r) => (r.method === 'REPORT' ? { status: 429, headers: { 'retry-after': '7200' } } : undefined);
        const busy = await c.migrate();
        assert.equal(busy.state, 'Pending');
        assert.match(busy.lastMessage ?? '', /answered 429 \(busy\), retry after 7200 s/);
        const due = await c.fx.db.kysely.selectFrom('migration_requests').select('not_before').where('id', '=', busy.correlationId).executeTakeFirstOrThrow();
        assert.ok(Number(due.not_before) >= c.fx.clock.now + 7200_000, `the retry at ${due.not_before} honours Retry-After (now ${c.fx.clock.now})`);
        c.proxy.intercept = () => undefined;

        await c.radicale.stop();
        c.proxy.intercept = () => undefined;
        c.fx.clock.advance(3 * 3_600_000);
        const down = await c.rerun(busy.correlationId);
        assert.equal(down.state, 'Pending', 'a server that is away is retried later');
        assert.match(down.lastMessage ?? '', /mailbox host 'Radicale' \(amy@contoso\.com\)/);
        await c.radicale.start();
        c.fx.clock.advance(24 * 3_600_000);
        assert.equal((await c.rerun(busy.correlationId)).state, 'Succeeded');
      }));
  });

  describe(`${t.name}: CalDAV failures that need the admin`, { skip: t.skip ?? RADICALE_SKIP }, () => {
    it('a wrong password: Failed at once, the message names the host, the user and the fix, no secret', () =>
      withCalDav(t, async (c) => {
        await c.meeting({ subject: 'Locked', start: march(14), uid: 'locked@contoso.com', meetingId: 'LCK23456' });
        await c.fx.retarget();
        const r = await c.migrate();
        assert.equal(r.state, 'Failed');
        assert.match(r.lastMessage ?? '', /mailbox host 'Radicale' \(amy@contoso\.com\): .*401 Unauthorized: the user name or password is wrong/);
        assert.doesNotMatch(r.lastMessage ?? '', /gave up after|retrying/, 'not retried: it needs the admin');
      }, { passwords: { amy: 'not-her-password' } }));
  });

  describe(`${t.name}: a server that schedules (RFC 6638)`, { skip: t.skip ?? RADICALE_SKIP }, () => {
    // Radicale does not schedule; the proxy announces calendar-auto-schedule in its DAV header, so MMS takes the
    // server-schedules path: it writes the organizer's object only, and sends and copies nothing.
    it('writes only the organizer\'s object and leaves attendees to the server', () =>
      withCalDav(t, async (c) => {
        c.proxy.davTokens = ['calendar-auto-schedule'];
        const uid = await c.meeting({ subject: 'Scheduled', start: march(15), uid: 'sched@contoso.com', meetingId: 'SCH23456' });
        const benBefore = await c.object('ben', uid);
        await c.fx.retarget();
        const r = await c.migrate();
        assert.equal(r.state, 'Succeeded', r.lastMessage ?? '');
        assert.deepEqual(await history(c, r.correlationId), [[uid, 'Updated', 'BlockReplaced', 4]]);
        assert.equal(blockIn(eventOf(((await c.object('amy', uid))?.ics ?? '').replace(/%2C/g, ',')).get('DESCRIPTION')), expectedBlock(JOIN('SCH23456')));
        assert.deepEqual(await c.object('ben', uid), benBefore, 'the server delivers; MMS does not touch copies');
        assert.deepEqual(await c.fx.notifications(r.correlationId), [], 'and sends nothing');
        await assert.rejects(undoMigration(c.fx.db, await c.fx.currentTenant(), r.correlationId, { actor: 'admin@contoso.com', now: () => c.fx.clock.now }),
          /the mailbox of amy@contoso\.com is on a mailbox host \(CalDAV\); Undo-MmsMeetingMigration works on the built-in store only/);
      }));
  });
}

/** Makes every ledger insert fail (a trigger), as a database that fails the commit after a remote write would. */
async function breakLedger(db: CalDavFixture['fx']['db'], dialect: string, on: boolean): Promise<void> {
  if (dialect === 'sqlite') {
    if (on) await sql`create trigger break_ledger before insert on migration_meetings begin select raise(abort, 'injected: the ledger cannot be written'); end`.execute(db.kysely);
    else await sql`drop trigger break_ledger`.execute(db.kysely);
    return;
  }
  if (on) {
    await sql`create function break_ledger() returns trigger language plpgsql as $$ begin raise exception 'injected: the ledger cannot be written'; end $$`.execute(db.kysely);
    await sql`create trigger break_ledger before insert on migration_meetings for each statement execute function break_ledger()`.execute(db.kysely);
  } else {
    await sql`drop trigger break_ledger on migration_meetings`.execute(db.kysely);
    await sql`drop function break_ledger()`.execute(db.kysely);
  }
}
void before;
void after;
