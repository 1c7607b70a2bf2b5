// iTIP (RFC 5546) messages built from a stored calendar object.
import { createHash } from 'node:crypto';
import { paramRecord } from './content-line.js';
import { editEvents } from './edit.js';
import { decodeValue, normalizeAddress } from './index-object.js';
import { readObjectLines } from './parse-object.js';
import { type Comp, type Item, firstProp, propsOf, rawOf } from './structure.js';

/** `YYYYMMDDTHHMMSSZ`: a UTC DATE-TIME as DTSTAMP and LAST-MODIFIED want it (RFC 5545 §3.3.5 form 2). */
export function utcDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export interface ItipOptions {
  /** The mailbox that sends on the organizer's behalf (`ORGANIZER;SENT-BY=`). */
  readonly sentBy: string;
  /** When the message is made (its DTSTAMP), epoch ms. */
  readonly dtstamp: number;
}

/** One iTIP REQUEST and the recipients it is for. */
export interface ItipMessage {
  /**
   * Which components it carries: '' for the whole meeting (the master and every exception that is not
   * cancelled), else a short key of that set; recipients with the same set share the message.
   */
  readonly variant: string;
  readonly recipients: string[];
  readonly ics: string;
}

/** A VEVENT of the object and what deciding who gets it needs. */
interface EventInfo {
  readonly comp: Comp;
  /** RECURRENCE-ID value as written, null for the master. */
  readonly recurrenceId: string | null;
  /** RECURRENCE-ID parameters an EXDATE may carry (TZID, VALUE). */
  readonly exdateParams: Record<string, string>;
  readonly cancelled: boolean;
  readonly attendees: ReadonlySet<string>;
}

function eventsOf(components: readonly Comp[]): EventInfo[] {
  return components.filter((c) => c.name === 'VEVENT').map((comp) => {
    const rid = firstProp(comp, 'RECURRENCE-ID');
    const status = firstProp(comp, 'STATUS');
    const params = rid ? paramRecord(rid) : {};
    // RANGE belongs to RECURRENCE-ID only; EXDATE takes the same value type and zone.
    const exdateParams = Object.fromEntries(Object.entries(params).filter(([k]) => k === 'TZID' || k === 'VALUE'));
    const attendees = new Set(propsOf(comp).filter((p) => p.parsed?.name === 'ATTENDEE').map((p) => normalizeAddress(decodeValue(p.parsed!))));
    return {
      comp, recurrenceId: rid ? rid.value : null, exdateParams, attendees,
      cancelled: status ? decodeValue(status).trim().toUpperCase() === 'CANCELLED' : false,
    };
  });
}

/** A component without its alarms: they are the organizer's own reminders, not part of the meeting. */
function withoutAlarms(comp: Comp): string {
  let out = comp.begin.raw;
  for (const item of comp.items) if (!(item.kind === 'comp' && item.name === 'VALARM')) out += rawOf(item);
  return comp.end ? out + comp.end.raw : out;
}

/**
 * The text of one REQUEST carrying `chosen` (master and/or exceptions): calendar properties with METHOD:REQUEST,
 * the VTIMEZONEs, the chosen VEVENTs without alarms; then, per VEVENT, `ORGANIZER;SENT-BY=`, a fresh DTSTAMP,
 * RSVP=FALSE on every attendee, and on the master an EXDATE for each occurrence the message leaves out so the
 * series a recipient keeps does not bring that occurrence back.
 */
function buildRequest(roots: readonly Item[], calendar: Comp, chosen: ReadonlySet<EventInfo>, leftOut: readonly EventInfo[], opts: ItipOptions): string {
  const eol = calendar.begin.eol === '\n' ? '\n' : '\r\n';
  let cal = calendar.begin.raw;
  const chosenComps = new Set([...chosen].map((e) => e.comp));
  let method = false;
  const head: string[] = [];
  const body: string[] = [];
  for (const item of calendar.items) {
    if (item.kind === 'comp') {
      if (item.name === 'VTIMEZONE') body.push(rawOf(item));
      else if (item.name === 'VEVENT' && chosenComps.has(item)) body.push(withoutAlarms(item));
      continue;
    }
    if (item.kind === 'prop' && item.parsed?.name === 'METHOD') {
      method = true;
      head.push(`METHOD:REQUEST${eol}`);
    } else {
      head.push(item.line.raw);
    }
  }
  if (!method) head.unshift(`METHOD:REQUEST${eol}`);
  cal += head.join('') + body.join('') + (calendar.end?.raw ?? '');
  const text = roots.map((r) => (r === calendar ? cal : rawOf(r))).join('');

  const sentBy = `mailto:${opts.sentBy}`;
  const stamp = utcDateTime(opts.dtstamp);
  return editEvents(text, (e) => {
    const organizer = e.getAll('ORGANIZER')[0];
    if (organizer) e.set('ORGANIZER', organizer.value, { ...organizer.params, 'SENT-BY': sentBy });
    e.set('DTSTAMP', stamp, {});
    const attendees = e.getAll('ATTENDEE');
    if (attendees.some((a) => a.params.RSVP !== 'FALSE')) {
      e.remove('ATTENDEE');
      for (const a of attendees) e.add('ATTENDEE', a.value, { ...a.params, RSVP: 'FALSE' });
    }
    if (e.recurrenceId !== null) return;
    const excluded = new Set(e.getAll('EXDATE').flatMap((x) => x.value.split(',')));
    for (const out of leftOut) {
      if (out.recurrenceId === null || excluded.has(out.recurrenceId)) continue;
      e.add('EXDATE', out.recurrenceId, out.exdateParams);
      excluded.add(out.recurrenceId);
    }
  });
}

/**
 * The iTIP REQUESTs (RFC 5546 §3.2.2) announcing an updated meeting to `recipients`, sent by a service on the
 * organizer's behalf. Each recipient gets only the components that invite them: the master when it lists
 * them (with an EXDATE for each occurrence they are not invited to), and the exceptions that list them — so an
 * attendee of one occurrence learns of that occurrence only. Cancelled occurrences are never in a REQUEST
 * (libical rejects STATUS:CANCELLED there; the master excludes them instead), and alarms are left out: they are
 * the organizer's. Recipients with the same components share one message.
 *
 * Each message has METHOD:REQUEST, `ORGANIZER;SENT-BY=` (RFC 5545 §3.2.18), a fresh DTSTAMP, and RSVP=FALSE on
 * every attendee with their PARTSTAT kept. SEQUENCE is left as it is: only the description, location and
 * conference details change, which RFC 5545 §3.8.7.4 does not count as a significant change, so attendees keep
 * their responses and are not asked to answer again; the newer DTSTAMP orders the update (RFC 5546 §2.1.5).
 * A recipient no live component lists gets no message. Addresses compare case-insensitively without mailto:.
 */
export function itipRequests(ics: string, recipients: readonly string[], opts: ItipOptions): ItipMessage[] {
  // Values are checked when each message is read again by editEvents; here only the structure is needed.
  const obj = readObjectLines(ics, { checkValues: false });
  const events = eventsOf(obj.components);
  const live = events.filter((e) => !e.cancelled);
  const master = live.find((e) => e.recurrenceId === null);
  const groups = new Map<string, { chosen: EventInfo[]; recipients: string[] }>();
  for (const recipient of recipients) {
    const address = normalizeAddress(recipient);
    // An exception that no longer lists someone of the series takes that occurrence away from them.
    const chosen = live.filter((e) => e.attendees.has(address));
    if (!chosen.length) continue;
    const key = chosen.length === live.length ? '' : variantKey(chosen);
    const group = groups.get(key) ?? { chosen, recipients: [] };
    group.recipients.push(recipient);
    groups.set(key, group);
  }
  return [...groups].map(([variant, g]) => {
    const chosen = new Set(g.chosen);
    const leftOut = master && chosen.has(master) ? events.filter((e) => !chosen.has(e)) : [];
    return { variant, recipients: g.recipients, ics: buildRequest(obj.roots, obj.calendar, chosen, leftOut, opts) };
  });
}

/** A short stable name for a set of components (the master is `M`), unique per meeting in practice. */
function variantKey(chosen: readonly EventInfo[]): string {
  const names = chosen.map((e) => e.recurrenceId ?? 'M').join('\n');
  return createHash('sha256').update(names).digest('hex').slice(0, 16);
}
