// The scheduling-server harness (test/helpers/scheduling-server.ts): Debian's DAViCal on `php -S`, a CalDAV server
// that does RFC 6638 implicit scheduling. Proves what the issue 8 tests of the "server schedules" mode rely on: the
// DAV header says calendar-auto-schedule, MMS's discovery sees it, and an organizer's PUT (and a later If-Match
// update of it) reaches the attendee's calendar with no request by or for the attendee.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { SCHEDULING_SERVER_SKIP, SchedulingServer, type SchedulingUser } from './helpers/scheduling-server.js';
import { DavClient, discoverCalendars } from '../src/mailbox/caldav/index.js';

const alice: SchedulingUser = { name: 'alice', password: `alice-${randomUUID()}`, email: 'alice@sched.test' };
const bob: SchedulingUser = { name: 'bob', password: `bob-${randomUUID()}`, email: 'bob@sched.test' };
const service: SchedulingUser = { name: 'mms-service', password: `svc-${randomUUID()}`, email: 'mms@sched.test' };

const put = (url: string, auth: string, ics: string, condition: Record<string, string>) =>
  fetch(url, { method: 'PUT', headers: { authorization: auth, 'content-type': 'text/calendar; charset=utf-8', ...condition }, body: ics });

function meeting(uid: string, summary: string, start: string): string {
  return [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//MMS//scheduling harness//EN',
    'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', `DTSTART:${start}`, 'DURATION:PT1H', `SUMMARY:${summary}`,
    `ORGANIZER;CN=Alice:mailto:${alice.email}`,
    `ATTENDEE;CN=Alice;PARTSTAT=ACCEPTED:mailto:${alice.email}`,
    `ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${bob.email}`,
    'END:VEVENT', 'END:VCALENDAR', '',
  ].join('\r\n');
}

describe('scheduling-server harness', () => {
  it('says why it skips when DAViCal is missing, and fails instead with MMS_REQUIRE_ALL=1', () => {
    const probe = `import('./test/helpers/scheduling-server.ts').then((m) => console.log(m.SCHEDULING_SERVER_SKIP))`;
    const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', '-e', probe], { cwd: path.resolve(import.meta.dirname, '..'), env: { ...process.env, MMS_DAVICAL_DIR: '/nonexistent/davical', ...env }, encoding: 'utf8' });
    const skip = run({ MMS_REQUIRE_ALL: '0' });
    assert.equal(skip.status, 0, skip.stderr);
    assert.match(skip.stdout.trim(), /^DAViCal is not installed at \/nonexistent\/davical; install the Debian package davical/);
    const strict = run({ MMS_REQUIRE_ALL: '1' });
    assert.notEqual(strict.status, 0);
    assert.match(strict.stderr, /MMS_REQUIRE_ALL=1 but DAViCal is not installed at \/nonexistent\/davical/);
  });
});

describe('a CalDAV server that schedules (DAViCal)', { skip: SCHEDULING_SERVER_SKIP }, () => {
  let server: SchedulingServer;
  before(async () => {
    server = await SchedulingServer.start([alice, bob, service]);
    await server.grant('alice', 'mms-service');
  });
  after(async () => {
    await server?.dispose();
  });

  it('announces calendar-auto-schedule in its DAV header, and MMS discovery (from /.well-known/caldav) sees it', async () => {
    const res = await fetch(server.davUrl, { method: 'OPTIONS', headers: { authorization: server.authOf('alice') } });
    await res.arrayBuffer();
    assert.equal(res.status, 200, server.log);
    const dav = res.headers.get('dav') ?? '';
    assert.ok(dav.split(',').map((t) => t.trim()).includes('calendar-auto-schedule'), `DAV: ${dav}`);

    const d = await discoverCalendars(new DavClient({ userName: alice.name, password: alice.password }), { hostUrl: server.url });
    assert.equal(d.autoSchedule, true);
    assert.equal(d.principalUrl, `${server.davUrl}alice/`);
    assert.deepEqual(d.calendars.map((c) => c.url), [server.calendarUrl('alice')]);
  });

  it('rejects a wrong password with 401', async () => {
    const res = await fetch(server.calendarUrl('alice'), { method: 'PROPFIND', headers: { authorization: `Basic ${Buffer.from('alice:wrong').toString('base64')}`, depth: '0' } });
    await res.arrayBuffer();
    assert.equal(res.status, 401);
  });

  it("delivers the organizer's PUT to the attendee's calendar, and an If-Match update replaces the attendee's copy", async () => {
    const uid = `harness-${randomUUID()}@sched.test`;
    const url = `${server.calendarUrl('alice')}${randomUUID()}.ics`;
    const created = await put(url, server.authOf('alice'), meeting(uid, 'Planning', '20300115T100000Z'), { 'if-none-match': '*' });
    await created.arrayBuffer();
    assert.equal(created.status, 201, server.log);

    const bobs = (await server.objects('bob', server.calendarUrl('bob'))).filter((o) => o.ics.includes(`UID:${uid}`));
    assert.equal(bobs.length, 1, "the attendee's calendar holds exactly one copy");
    assert.match(bobs[0]!.ics, /SUMMARY:Planning/);
    assert.match(bobs[0]!.ics, /DTSTART:20300115T100000Z/);
    const inbox = (await server.objects('bob', `${server.davUrl}bob/.in/`)).filter((o) => o.ics.includes(`UID:${uid}`));
    assert.equal(inbox.length, 1, "the attendee's schedule inbox got the request");
    assert.match(inbox[0]!.ics, /METHOD:REQUEST/);

    // The organizer's copy records the delivery (RFC 6638 §3.2.9: 1.2 = delivered).
    const own = await fetch(url, { headers: { authorization: server.authOf('alice') } });
    const ownIcs = await own.text();
    assert.match(ownIcs.replace(/\r\n[ \t]/g, ''), new RegExp(`ATTENDEE;[^\\r\\n]*SCHEDULE-STATUS=1\\.2[^\\r\\n]*:mailto:${bob.email}`));
    const etag = own.headers.get('etag');
    assert.ok(etag);

    const stale = await put(url, server.authOf('alice'), meeting(uid, 'Stale', '20300115T100000Z'), { 'if-match': '"not-the-etag"' });
    await stale.arrayBuffer();
    assert.equal(stale.status, 412);

    const update = await put(url, server.authOf('alice'), meeting(uid, 'Planning (moved)', '20300116T140000Z'), { 'if-match': etag });
    await update.arrayBuffer();
    assert.equal(update.status, 204, server.log);
    const after = (await server.objects('bob', server.calendarUrl('bob'))).filter((o) => o.ics.includes(`UID:${uid}`));
    assert.equal(after.length, 1);
    assert.match(after[0]!.ics, /SUMMARY:Planning \(moved\)/);
    assert.match(after[0]!.ics, /DTSTART:20300116T140000Z/);
  });

  it("a service account granted read/write on the organizer's calendars finds them through a principal URL, and its PUT is scheduled as the organizer's", async () => {
    const svc = new DavClient({ userName: service.name, password: service.password });
    const d = await discoverCalendars(svc, { hostUrl: server.url, principalUrl: `${server.davUrl}alice/` });
    assert.equal(d.autoSchedule, true);
    assert.deepEqual(d.calendars.map((c) => c.url), [server.calendarUrl('alice')]);

    const uid = `delegated-${randomUUID()}@sched.test`;
    const url = `${server.calendarUrl('alice')}${randomUUID()}.ics`;
    const res = await put(url, server.authOf('mms-service'), meeting(uid, 'Written by the service', '20300201T090000Z'), { 'if-none-match': '*' });
    await res.arrayBuffer();
    assert.equal(res.status, 201, server.log);
    const bobs = (await server.objects('bob', server.calendarUrl('bob'))).filter((o) => o.ics.includes(`UID:${uid}`));
    assert.equal(bobs.length, 1, "the attendee got the delegate's write");
    assert.match(bobs[0]!.ics, /SUMMARY:Written by the service/);

    // Without a grant the same account is refused: 403, what MMS reports as Forbidden.
    const refused = await put(`${server.calendarUrl('bob')}${randomUUID()}.ics`, server.authOf('mms-service'), meeting(`x-${uid}`, 'No grant', '20300201T090000Z'), { 'if-none-match': '*' });
    await refused.arrayBuffer();
    assert.equal(refused.status, 403);
  });

  it('answers 8 PROPFINDs sent at once, none refused or reset (MMS sends up to MaxConcurrency at a time)', async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => fetch(server.calendarUrl('alice'), { method: 'PROPFIND', headers: { authorization: server.authOf('alice'), depth: '0' } }).then(async (r) => { await r.arrayBuffer(); return r.status; })));
    assert.deepEqual(all, Array(8).fill(207));
  });

  it('keeps its data across a kill and a start on the same port', async () => {
    const before = (await server.objects('bob', server.calendarUrl('bob'))).length;
    assert.ok(before > 0);
    await server.kill();
    await assert.rejects(fetch(server.davUrl, { method: 'OPTIONS' }));
    await server.start();
    assert.equal((await server.objects('bob', server.calendarUrl('bob'))).length, before);
  });
});
