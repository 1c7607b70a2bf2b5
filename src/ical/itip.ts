// iTIP (RFC 5546) messages built from a stored calendar object.
import { editEvents } from './edit.js';

/** `YYYYMMDDTHHMMSSZ` for a DTSTAMP. */
function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * An iTIP REQUEST (RFC 5546 §3.2.2) announcing an updated meeting, sent by a service on the organizer's behalf:
 * METHOD:REQUEST, `ORGANIZER;SENT-BY=` the service mailbox (RFC 5545 §3.2.18), a fresh DTSTAMP, and RSVP=FALSE on
 * every attendee with their PARTSTAT kept. SEQUENCE is left as it is: only the description, location and
 * conference details change, which RFC 5545 §3.8.7.4 does not count as a significant change, so attendees keep
 * their responses and are not asked to answer again; the newer DTSTAMP orders the update (RFC 5546 §2.1.5).
 */
export function itipRequest(ics: string, opts: { sentBy: string; dtstamp: number }): string {
  const sentBy = `mailto:${opts.sentBy}`;
  const body = editEvents(ics, (e) => {
    const organizer = e.getAll('ORGANIZER')[0];
    if (organizer) e.set('ORGANIZER', organizer.value, { ...organizer.params, 'SENT-BY': sentBy });
    e.set('DTSTAMP', utcStamp(opts.dtstamp), {});
    const attendees = e.getAll('ATTENDEE');
    if (attendees.some((a) => a.params.RSVP !== 'FALSE')) {
      e.remove('ATTENDEE');
      for (const a of attendees) e.add('ATTENDEE', a.value, { ...a.params, RSVP: 'FALSE' });
    }
  });
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  // METHOD is a calendar-level property: replace one that is there, else add it after BEGIN:VCALENDAR.
  const firstComponent = body.search(/\r?\nBEGIN:(?!VCALENDAR)/i);
  const head = firstComponent < 0 ? body : body.slice(0, firstComponent);
  if (/(^|\n)METHOD:/i.test(head)) return body.replace(/(^|\n)METHOD:[^\r\n]*/i, `$1METHOD:REQUEST`);
  return body.replace(/^BEGIN:VCALENDAR\r?\n/i, (m) => `${m}METHOD:REQUEST${eol}`);
}
