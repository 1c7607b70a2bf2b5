import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { meetingIdOf, onlineMeetingIdOf } from './online-meeting.js';

const TEAMS_THREAD = 'NjQ5ZjM2YzEtYjM5Ny00ZWY2LWJmNjQtYjg4ZDk2ZWQ5ZGI0';

test('the meeting id is read out of every marker Exchange and the add-ins write', () => {
  const cases: Array<[string, string]> = [
    ['K7Q2X9ZP', 'K7Q2X9ZP'],
    ['mtg-4f1c2a', 'mtg-4f1c2a'],
    ['https://meet.contoso.com/ashaw/K7Q2X9ZP', 'K7Q2X9ZP'],
    ['https://meet.contoso.com/ashaw/K7Q2X9ZP?sl=1', 'K7Q2X9ZP'],
    ['https://meet.lync.com/fabrikam/ashaw/K7X2NQ4T', 'K7X2NQ4T'],
    ['https://sfb.contoso.com/meet/ashaw/K7Q2X9ZP/', 'K7Q2X9ZP'],
    ['conf:sip:ashaw@contoso.com;gruu;opaque=app:conf:focus:id:K7Q2X9ZP', 'K7Q2X9ZP'],
    ['conf:sip:ashaw@contoso.com;gruu;opaque=app:conf:focus:id:K7Q2X9ZP?conversation-id=lOxp5xx3ZBi', 'K7Q2X9ZP'],
    [`https://teams.microsoft.com/l/meetup-join/19%3ameeting_${TEAMS_THREAD}%40thread.v2/0?context=%7b%22Tid%22%3a%2272f9%22%7d`, TEAMS_THREAD],
    [`conf:sip:ashaw@contoso.com;gruu;opaque=app:conf:focus:id:teams:2:0!19:meeting_${TEAMS_THREAD}-thread.v2!b0f1c3d2!72f988bf`, TEAMS_THREAD],
    ['https://teams.microsoft.com/l/meetup-join/19%3a3e8a0c1b2d4f%40thread.tacv2/1600000000000?context=%7b%7d', '3e8a0c1b2d4f-1600000000000'],
    ['https://teams.live.com/meet/9876543210123', '9876543210123'],
    ['https://teams.microsoft.com/meet/2468013579?p=AbCdEf', '2468013579'],
  ];
  for (const [marker, id] of cases) assert.equal(meetingIdOf(marker), id, marker);
});

test('a Teams meeting gets the same id from its join link and from its conference link', () => {
  const url = onlineMeetingIdOf({ 'X-MICROSOFT-SKYPETEAMSMEETINGURL': `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${TEAMS_THREAD}%40thread.v2/0` });
  const conf = onlineMeetingIdOf({ 'X-MICROSOFT-ONLINEMEETINGCONFLINK': `conf:sip:a@b.com;gruu;opaque=app:conf:focus:id:teams:2:0!19:meeting_${TEAMS_THREAD}-thread.v2!x!y` });
  assert.equal(meetingIdOf(url!), meetingIdOf(conf!));
});

test('property: any marker gives one non-empty URL path segment', () => {
  const marker = fc.oneof(
    fc.string({ unit: 'grapheme' }),
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.string().map((s) => `conf:sip:a@b.com;gruu;opaque=app:conf:focus:id:${s}`),
    fc.string().map((s) => `https://teams.microsoft.com/l/meetup-join/${s}`),
    fc.constantFrom('https://meet.contoso.com/ashaw/..', 'https://meet.contoso.com/.', '', ' ', "https://a.example/?'"),
  );
  fc.assert(
    fc.property(marker, (m) => {
      const id = meetingIdOf(m);
      assert.match(id, /^[A-Za-z0-9._~%-]+$/);
      assert.equal(new URL(`https://meet.contoso.com/ashaw/${id}`).pathname, `/ashaw/${id}`);
    }),
    { numRuns: 500 },
  );
});
