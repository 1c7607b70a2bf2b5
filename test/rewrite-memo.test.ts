// The engine rewrites an attendee's own copy of a meeting with the decisions it made for the organizer's object
// (RewriteMemo): a copy whose block properties are byte for byte the organizer's gets the same edits and lines
// without the block being located, parsed and rendered again. These tests hold the memo path to the plain one:
// every copy — personalized (PARTSTAT, VALARM, CATEGORIES), with an exception of its own, with an edited block,
// with another time stamp — must come out exactly as a rewrite without a memo makes it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderBlock, type BlockInput } from '../src/domain/meeting-block/index.js';
import { editEvents } from '../src/ical/index.js';
import { newRewriteMemo, rewriteMeeting, type BlockRenderer } from '../src/migration/rewrite-meeting.js';
import { personalFor, personalize } from './helpers/personal-copy.js';

const input = (conferenceId: string, sharedNotesUrl: string | null = null): BlockInput => ({
  language: 'en-US',
  meetingId: 'K7X2NQ4T',
  joinUrl: 'https://meet.contoso.com/ashaw/K7X2NQ4T',
  dialIn: {
    provider: 'Microsoft', providerName: null, toll: { number: '+14255550100', label: 'Seattle' }, tollFree: { number: '+18005550199', label: '' },
    conferenceId, localNumbersUrl: 'https://meet.contoso.com/dialin',
  },
  sharedNotesUrl,
});

const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\n/g, '\\n');

/** A recurring meeting with an exception, each carrying the old block (conference ID 1111111) in text and HTML. */
function meeting(): string {
  const old = renderBlock(input('1111111'));
  const event = (extra: string[], agenda: string) => [
    'BEGIN:VEVENT', 'UID:memo-1@contoso.com', 'DTSTAMP:20260101T000000Z', 'DTSTART:20270104T100000Z', 'DTEND:20270104T110000Z', ...extra,
    'SUMMARY:Weekly review, part 1', `DESCRIPTION:${esc(`${agenda}\n\n${old.text}`)}`, `X-ALT-DESC;FMTTYPE=text/html:${esc(`<html><body><p>${agenda}</p>${old.html}</body></html>`)}`,
    ...old.conferences.map((c) => `CONFERENCE;VALUE=URI;FEATURE=${c.features.join(',')};LABEL=${c.label}:${c.uri}`),
    'LOCATION:Room 4 / https://meet.contoso.com/ashaw/K7X2NQ4T', 'ORGANIZER;CN=Amy Shaw:mailto:ashaw@contoso.com',
    'ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bo@contoso.com', 'ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:cy@contoso.com', 'END:VEVENT',
  ];
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//memo//EN',
    ...event(['RRULE:FREQ=WEEKLY;COUNT=10'], 'Agenda: budget — 会議 🎉'), ...event(['RECURRENCE-ID:20270111T100000Z'], 'Moved, see notes'), 'END:VCALENDAR'];
  return lines.join('\r\n') + '\r\n';
}

const render: BlockRenderer = (notes) => ({ ...renderBlock(input('2222222', notes)), joinUrl: 'https://meet.contoso.com/ashaw/K7X2NQ4T' });
const NOW = Date.UTC(2026, 11, 1, 12);

describe('rewriting attendee copies with the organizer\'s decisions (RewriteMemo)', () => {
  it('gives every kind of copy exactly the text a rewrite without the memo gives', () => {
    const organizer = meeting();
    const memo = newRewriteMemo();
    const planned = rewriteMeeting(organizer, render, NOW, memo);
    assert.equal(planned.kind, 'Rewritten');
    assert.deepEqual(planned, rewriteMeeting(organizer, render, NOW), 'the organizer\'s own rewrite is the same with a memo');
    assert.ok(memo.decisions.size >= 2, 'both components were decided and remembered');

    const personal = personalize(organizer, 'bo@contoso.com', personalFor('bo@contoso.com', 1));
    const edited = editEvents(personal, (e) => {
      if (e.recurrenceId !== null) e.set('DESCRIPTION', (e.get('DESCRIPTION') ?? '').replace('Conference ID: 1111111', 'Conference ID: 1111111 (ask Amy)'));
    });
    const copies = {
      personalized: personal,
      'with an edited block in its exception': edited,
      'with LF line breaks': personal.replace(/\r\n/g, '\n'),
    };
    for (const [what, copy] of Object.entries(copies)) {
      const plain = rewriteMeeting(copy, render, NOW);
      const viaMemo = rewriteMeeting(copy, render, NOW, memo);
      assert.equal(plain.kind, 'Rewritten', what);
      assert.deepEqual(viaMemo, plain, `${what}: the memo path gives the plain path's result`);
    }
    const unfold = (s: string) => s.replace(/\r?\n[ \t]/g, '');
    assert.ok(unfold(edited).includes('(ask Amy)'), 'the copy\'s exception has an edited block');
    const out = unfold((rewriteMeeting(edited, render, NOW, memo) as { ics: string }).ics);
    assert.ok(!out.includes('1111111') && out.includes('Conference ID: 2222222'), 'the edited block was replaced too');
  });

  it('does not reuse a decision under another time stamp or another rendering', () => {
    const organizer = meeting();
    const memo = newRewriteMemo();
    rewriteMeeting(organizer, render, NOW, memo);
    const later = rewriteMeeting(organizer, render, NOW + 60_000, memo);
    assert.deepEqual(later, rewriteMeeting(organizer, render, NOW + 60_000), 'a later now stamps the later DTSTAMP');
    const withNotes = organizer.replace(/Conference ID/g, 'Conference ID');
    assert.deepEqual(rewriteMeeting(withNotes, render, NOW, memo), rewriteMeeting(withNotes, render, NOW));
  });
});
