// What the store indexes about one calendar object, and the occurrence query behind "is it in the future".
import { type ParsedLine, paramValue } from './content-line.js';
import { parseObject, guard } from './parse-object.js';
import { type Comp, firstProp, propsOf } from './structure.js';
import { isTextValued, unescapeText } from './text-codec.js';
import { TimeReader, occurrencesIn, seriesOf, seriesSpan } from './occurrences.js';

/** What the store indexes about one calendar object. */
export interface ObjectIndex {
  uid: string;
  /** The master's SUMMARY (or the first component's), '' if none. */
  summary: string;
  /** Lower-case address without mailto:, or null. */
  organizer: string | null;
  /** The master's attendees; lower-case addresses without mailto:, each once. */
  attendees: Array<{ address: string; name: string | null; partstat: string; role: string; cutype: string; rsvp: boolean }>;
  /** Epoch ms of the earliest live occurrence start (master or any exception). */
  firstStart: number | null;
  /** Epoch ms of the latest live occurrence end of the whole series; null = never ends (or beyond the iteration cap). */
  lastEnd: number | null;
  recurring: boolean;
  exceptions: Array<{ recurrenceId: number; start: number; end: number; cancelled: boolean }>;
  /** First value of each X- property on the master (upper-case names), TEXT-decoded. */
  xProps: Record<string, string>;
  /** Every address invited to any occurrence (master and exceptions), each once, organizer included if listed. */
  everyAttendee: string[];
  /**
   * The zone floating times and DATE values were read in (the `timeZone` option), or null when the object has
   * none: then its instants do not depend on anyone's zone.
   */
  floatingZone: string | null;
  /** TZIDs neither a usable VTIMEZONE nor the name resolves (read as UTC): a "past" decision must allow ±14 h. */
  unknownZones: string[];
  /** The master's DESCRIPTION, TEXT-decoded; null if none (what tells a Skype block from a Teams block, issue 12). */
  description: string | null;
}

/** How to read an object's times. */
export interface ReadTimesOptions {
  /** IANA zone for floating times and DATE values: the organizer's (RFC 5545 §3.3.5). Default UTC. */
  timeZone?: string;
}

/** Lower-case calendar address without the mailto: scheme. */
export function normalizeAddress(value: string): string {
  return value.trim().replace(/^mailto:/i, '').toLowerCase();
}

/** A property value decoded for reading: TEXT unescaped (RFC 5545 §3.3.11), anything else as written. */
export function decodeValue(line: ParsedLine): string {
  return isTextValued(line.name, paramValue(line, 'VALUE')) ? unescapeText(line.value) : line.value;
}

/** The master component in our tree: the first without RECURRENCE-ID, else the first component. */
function masterOf(components: Comp[]): Comp {
  return (components.find((c) => !firstProp(c, 'RECURRENCE-ID')) ?? components[0]) as Comp;
}

/**
 * Reads what the store indexes about one calendar object (one UID; see splitCalendar). Occurrences are
 * expanded through RRULE/RDATE/EXDATE and exceptions, up to MAX_RECURRENCE_ITERATIONS. A cancelled exception
 * (STATUS:CANCELLED) is not a live occurrence, and neither are the instances of a cancelled master. Floating
 * times are read in `opts.timeZone`.
 *
 * @throws MmsError('Invalid') with a one-line message when the object does not parse.
 */
export function indexObject(ics: string, opts: ReadTimesOptions = {}): ObjectIndex {
  const obj = parseObject(ics, 'times');
  const master = masterOf(obj.components);
  const summary = firstProp(master, 'SUMMARY');
  const description = firstProp(master, 'DESCRIPTION');
  const organizer = firstProp(master, 'ORGANIZER');
  const attendees: ObjectIndex['attendees'] = [];
  const xProps: Record<string, string> = {};
  for (const { parsed } of propsOf(master)) {
    if (!parsed) continue;
    if (parsed.name === 'ATTENDEE') {
      // An address listed twice (in other letter cases too) is one attendee.
      if (attendees.some((a) => a.address === normalizeAddress(parsed.value))) continue;
      attendees.push({
        address: normalizeAddress(parsed.value),
        name: paramValue(parsed, 'CN') ?? null,
        partstat: (paramValue(parsed, 'PARTSTAT') ?? 'NEEDS-ACTION').toUpperCase(),
        role: (paramValue(parsed, 'ROLE') ?? 'REQ-PARTICIPANT').toUpperCase(),
        cutype: (paramValue(parsed, 'CUTYPE') ?? 'INDIVIDUAL').toUpperCase(),
        rsvp: (paramValue(parsed, 'RSVP') ?? '').toUpperCase() === 'TRUE',
      });
    } else if (parsed.name.startsWith('X-') && !(parsed.name in xProps)) {
      xProps[parsed.name] = decodeValue(parsed);
    }
  }
  // An exception may invite people the master does not (one occurrence only): they are attendees too.
  const everyAttendee = [...new Set(obj.components.flatMap((c) => propsOf(c).flatMap(({ parsed }) => (parsed?.name === 'ATTENDEE' ? [normalizeAddress(parsed.value)] : []))))];
  return guard(obj.uid, 'its dates or recurrence cannot be read', () => {
    const reader = new TimeReader(opts.timeZone);
    const series = seriesOf(obj, reader);
    const { firstStart, lastEnd } = seriesSpan(series);
    return {
      uid: obj.uid,
      summary: summary ? decodeValue(summary) : '',
      organizer: organizer ? normalizeAddress(organizer.value) : null,
      attendees,
      firstStart,
      lastEnd,
      recurring: series.recurring,
      exceptions: series.exceptions.map(({ recurrenceId, start, end, cancelled }) => ({ recurrenceId, start, end, cancelled })),
      xProps,
      everyAttendee,
      floatingZone: reader.floating ? reader.floatingZone : null,
      unknownZones: obj.unknownZones,
      description: description ? decodeValue(description) : null,
    };
  });
}

/**
 * The live occurrences of an object whose start lies in [from, to), sorted by start, at most `limit`
 * (default 1000). Moved exceptions count at their new time; cancelled exceptions and EXDATEs do not count.
 * `recurrenceId` is the instance's original start for a recurring series, null for a single meeting.
 *
 * @throws MmsError('Invalid') when the object does not parse.
 */
export function occurrencesBetween(ics: string, from: number, to: number, limit = 1000, opts: ReadTimesOptions = {}): Array<{ start: number; end: number; recurrenceId: number | null }> {
  const obj = parseObject(ics, 'times');
  return guard(obj.uid, 'its dates or recurrence cannot be read', () => occurrencesIn(seriesOf(obj, new TimeReader(opts.timeZone)), from, to, limit));
}
