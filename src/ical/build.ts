// New calendar objects written by MMS itself (New-MmsMeeting and tests): one UID, CRLF, folded at 75 octets.
import { invalid } from '../domain/errors.js';
import { foldLine } from './fold.js';
import { isIanaZone, offsetAt } from './intl-zone.js';
import { guard, parseObject } from './parse-object.js';
import { seriesOf } from './occurrences.js';
import { ICAL } from './setup.js';
import { escapeText, formatParams } from './text-codec.js';
import { formatWall, vtimezoneFor } from './vtimezone.js';

/** Input of buildEvent. Times are epoch ms; addresses without mailto:. */
export interface NewEventInput {
  uid: string;
  summary: string;
  start: number;
  end: number;
  /** IANA zone for DTSTART/DTEND (with a generated VTIMEZONE); UTC when absent. */
  timeZone?: string;
  /** RRULE value without the "RRULE:" prefix, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10. */
  rrule?: string;
  organizer: { address: string; name?: string };
  attendees: Array<{ address: string; name?: string }>;
  description?: string;
  htmlDescription?: string;
  location?: string;
  conferences?: Array<{ uri: string; features: string[]; label?: string }>;
  /** Extra X- properties (names must start with X-), TEXT values. */
  xProps?: Record<string, string>;
  dtstamp: number;
}

export const MMS_PRODID = '-//MMS//Meeting Migration Service//EN';

const utc = (ms: number): string => formatWall(Math.floor(ms / 1000) * 1000) + 'Z';

function address(uid: string, value: string, what: string): string {
  const bare = value.trim().replace(/^mailto:/i, '');
  if (!/^[^\s@:;,"]+@[^\s@:;,"]+$/.test(bare)) {
    throw invalid(`${uid}: ${what} address "${value}" is not an e-mail address; pass an address such as someone@example.com`);
  }
  return `mailto:${bare}`;
}

function withName(name: string | undefined): Record<string, string> {
  return name ? { CN: name } : {};
}

/**
 * Builds a new single-UID VCALENDAR for a meeting: PRODID "-//MMS//Meeting Migration Service//EN", no
 * METHOD, DTSTAMP, SEQUENCE:0, ORGANIZER and ATTENDEEs (ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE),
 * optional RRULE, DESCRIPTION, X-ALT-DESC;FMTTYPE=text/html, LOCATION, CONFERENCE;VALUE=URI;FEATURE=…;LABEL=…
 * (RFC 7986 §5.11) and extra X- properties, with a VTIMEZONE for `timeZone` when given. CRLF line breaks,
 * lines folded at 75 octets, final CRLF. The output is parsed back before it is returned.
 *
 * @throws MmsError('Invalid') for input that cannot make a valid object (unknown zone, end before start,
 * bad address, bad RRULE, X- property name without X-).
 */
export function buildEvent(input: NewEventInput): string {
  const uid = input.uid.trim();
  if (!uid) throw invalid('new meeting: the UID is empty; pass a unique id');
  if (!Number.isFinite(input.start) || !Number.isFinite(input.end) || input.end < input.start) {
    throw invalid(`${uid}: the meeting ends before it starts (or a time is not a number); pass start <= end as epoch ms`);
  }
  if (!Number.isFinite(input.dtstamp)) throw invalid(`${uid}: dtstamp is not a number; pass epoch ms`);
  if (input.rrule !== undefined) {
    let ok = /(^|;)FREQ=/i.test(input.rrule);
    try {
      ICAL.Recur.fromString(input.rrule);
    } catch {
      ok = false;
    }
    if (!ok) throw invalid(`${uid}: RRULE "${input.rrule}" is not a valid recurrence rule; pass an RFC 5545 §3.3.10 rule such as FREQ=WEEKLY;BYDAY=MO;COUNT=10`);
  }
  const tz = input.timeZone;
  if (tz !== undefined && !isIanaZone(tz)) {
    throw invalid(`${uid}: time zone "${tz}" is unknown; use an IANA name such as Europe/Berlin`);
  }
  const ics = render(input, uid, tz);
  const obj = parseObject(ics);
  // The VTIMEZONE encodes one year's rules; if ical.js reads DTSTART differently through it (a zone whose
  // rules are not an "n-th weekday" pair), fall back to UTC times, which cannot be misread.
  const master = guard(uid, 'the new meeting cannot be read back', () => seriesOf(obj).master);
  if (tz !== undefined && master && master.start !== Math.floor(input.start / 1000) * 1000) return render(input, uid, undefined);
  return ics;
}

function render(input: NewEventInput, uid: string, tz: string | undefined): string {
  const lines: string[] = ['BEGIN:VCALENDAR', 'VERSION:2.0', `PRODID:${MMS_PRODID}`, 'CALSCALE:GREGORIAN'];
  const out: string[] = [];
  const when = (name: string, ms: number): string => {
    if (tz === undefined) return `${name}:${utc(ms)}`;
    const s = Math.floor(ms / 1000) * 1000;
    return `${name};TZID=${tz}:${formatWall(s + offsetAt(tz, s))}`;
  };
  const prop = (name: string, params: Record<string, string>, value: string): void => {
    out.push(`${name}${formatParams(params)}:${value}`);
  };
  prop('UID', {}, escapeText(uid));
  prop('DTSTAMP', {}, utc(input.dtstamp));
  prop('SEQUENCE', {}, '0');
  out.push(when('DTSTART', input.start), when('DTEND', input.end));
  if (input.rrule !== undefined) prop('RRULE', {}, input.rrule);
  prop('SUMMARY', {}, escapeText(input.summary));
  prop('ORGANIZER', withName(input.organizer.name), address(uid, input.organizer.address, 'organizer'));
  for (const a of input.attendees) {
    prop('ATTENDEE', { ...withName(a.name), ROLE: 'REQ-PARTICIPANT', PARTSTAT: 'NEEDS-ACTION', RSVP: 'TRUE' }, address(uid, a.address, 'attendee'));
  }
  if (input.description !== undefined) prop('DESCRIPTION', {}, escapeText(input.description));
  if (input.htmlDescription !== undefined) prop('X-ALT-DESC', { FMTTYPE: 'text/html' }, escapeText(input.htmlDescription));
  if (input.location !== undefined) prop('LOCATION', {}, escapeText(input.location));
  for (const c of input.conferences ?? []) {
    if (!c.features.every((f) => /^[A-Za-z0-9-]+$/.test(f))) {
      throw invalid(`${uid}: conference FEATURE values ${JSON.stringify(c.features)} are not tokens; use AUDIO, VIDEO, PHONE, MODERATOR, CHAT, SCREEN or FEED (RFC 7986 §5.11)`);
    }
    if (/[\r\n]/.test(c.uri) || !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(c.uri)) {
      throw invalid(`${uid}: conference URI "${c.uri}" is not a URI; pass one such as https://… or tel:…`);
    }
    const params: Record<string, string> = { VALUE: 'URI' };
    if (c.features.length) params['FEATURE'] = c.features.join(',');
    if (c.label !== undefined) params['LABEL'] = c.label;
    prop('CONFERENCE', params, c.uri);
  }
  for (const [name, value] of Object.entries(input.xProps ?? {})) {
    if (!/^X-[A-Za-z0-9-]+$/.test(name)) throw invalid(`${uid}: "${name}" is not an X- property name; use X- followed by letters, digits or "-"`);
    prop(name.toUpperCase(), {}, escapeText(value));
  }
  if (tz !== undefined) {
    const year = new Date(input.start + offsetAt(tz, input.start)).getUTCFullYear();
    const vtz = vtimezoneFor(tz, year) as string; // the zone was checked by the caller
    lines.push(...vtz.split('\r\n').filter((l) => l !== ''));
  }
  lines.push('BEGIN:VEVENT', ...out, 'END:VEVENT', 'END:VCALENDAR');
  return lines.map((l) => foldLine(l) + '\r\n').join('');
}
