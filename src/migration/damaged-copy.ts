// An internal attendee's own copy that no longer parses (issue 7 §3). The rule, written once for migration and
// undo alike:
//
//   RFC 5546 §3.2.2: an iTIP REQUEST from the organizer replaces the attendee's copy of the event. So a copy MMS
//   cannot edit in place is REPLACED by the organizer's new text — but never silently and never losing what can
//   still be read of the attendee's own: their PARTSTAT (from their own ATTENDEE line) and their VALARMs (every
//   BEGIN:VALARM … END:VALARM that can be cut out whole) are carried over, and the organizer's own reminders are
//   not handed to the attendee. Anything else personal (categories, notes, TRANSP) cannot be told apart from the
//   damage; it stays in the damaged text, which is kept (table attendee_copy_damage) so undo puts it back, and a
//   history row `AttendeeCopyDamaged` names the attendee and says what was carried over.
//   When even that replacement would not parse, the copy is left as it is (skipped) and the row says so.
import { editEvents } from '../ical/index.js';
import { MmsError } from '../domain/errors.js';

/** What could still be read of a damaged copy. */
export interface ReadableParts {
  readonly partstat: string | null;
  readonly alarms: ReadonlyArray<{ recurrenceId: string | null; text: string }>;
}

/** The replacement of a damaged copy: the text to write (null: leave the copy as it is) and the history reason. */
export interface DamagedCopyOutcome {
  readonly ics: string | null;
  readonly reason: string;
}

const unfold = (s: string): string => s.replace(/\r?\n[ \t]/g, '');

/** The RECURRENCE-ID value of the VEVENT that starts at `begin` in `text`, up to `until`; null for a master. */
function recurrenceIdIn(text: string, begin: number, until: number): string | null {
  const m = /^RECURRENCE-ID[^:\r\n]*:([^\r\n]*)/im.exec(unfold(text.slice(begin, until)));
  return m ? m[1]!.trim() : null;
}

/**
 * Reads what is still readable of a damaged copy: the attendee's own PARTSTAT (the first ATTENDEE line whose
 * address is one of theirs) and every VALARM that can be cut out whole, with the RECURRENCE-ID of the VEVENT it
 * was in (null: the master or unknown).
 */
export function readableParts(damaged: string, addresses: readonly string[]): ReadableParts {
  const mine = new Set(addresses.map((a) => `mailto:${a.toLowerCase()}`));
  let partstat: string | null = null;
  for (const line of unfold(damaged).split(/\r?\n/)) {
    if (!/^ATTENDEE[;:]/i.test(line)) continue;
    const colon = valueColon(line);
    if (colon < 0 || !mine.has(line.slice(colon + 1).trim().toLowerCase())) continue;
    const p = /;PARTSTAT=("?)([A-Za-z-]+)\1(?=;|$)/i.exec(line.slice(0, colon));
    if (p) {
      partstat = p[2]!.toUpperCase();
      break;
    }
  }
  // One pass over the raw lines: an alarm is whole when END:VALARM closes its BEGIN:VALARM with no other
  // BEGIN or END between; it belongs to the last VEVENT begun before it.
  const alarms: Array<{ recurrenceId: string | null; text: string }> = [];
  let event = -1;
  let open = -1;
  for (let at = 0; at < damaged.length;) {
    const nl = damaged.indexOf('\n', at);
    const end = nl < 0 ? damaged.length : nl + 1;
    const line = damaged.slice(at, end).replace(/\r?\n$/, '').toUpperCase();
    if (line === 'BEGIN:VEVENT') event = at;
    if (line === 'BEGIN:VALARM') open = at;
    else if (line === 'END:VALARM' && open >= 0) {
      const text = damaged.slice(open, end);
      alarms.push({ recurrenceId: event < 0 ? null : recurrenceIdIn(damaged, event, open), text: text.endsWith('\n') ? text : `${text}\r\n` });
      open = -1;
    } else if (line.startsWith('BEGIN:') || line.startsWith('END:')) open = -1;
    at = end;
  }
  return { partstat, alarms };
}

/** The index of the colon that ends a content line's name and parameters (quoted parameter values may hold colons). */
function valueColon(line: string): number {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === ':' && !quoted) return i;
  }
  return -1;
}

/** The organizer's text with their VALARMs taken out and the attendee's put in, into the VEVENT each came from. */
function withAlarms(ics: string, alarms: ReadableParts['alarms']): string {
  const eol = ics.includes('\r\n') ? '\r\n' : '\n';
  let out = ics.replace(/^BEGIN:VALARM\r?\n[\s\S]*?^END:VALARM\r?\n/gim, '');
  if (!alarms.length) return out;
  // The VEVENTs of the organizer's text, last first, so inserting keeps earlier offsets valid.
  const events: Array<{ end: number; recurrenceId: string | null }> = [];
  const re = /^BEGIN:VEVENT\r?\n[\s\S]*?^(?=END:VEVENT\r?$)/gim;
  for (let m = re.exec(out); m; m = re.exec(out)) events.push({ end: m.index + m[0].length, recurrenceId: recurrenceIdIn(out, m.index, m.index + m[0].length) });
  if (!events.length) return out;
  const target = (rid: string | null) => events.find((e) => e.recurrenceId === rid) ?? events.find((e) => e.recurrenceId === null) ?? events[0]!;
  const byEvent = new Map<(typeof events)[number], string[]>();
  for (const a of alarms) {
    const e = target(a.recurrenceId);
    byEvent.set(e, [...(byEvent.get(e) ?? []), a.text.replace(/\r?\n/g, eol)]);
  }
  for (const e of [...events].reverse()) {
    const add = byEvent.get(e);
    if (add) out = out.slice(0, e.end) + add.join('') + out.slice(e.end);
  }
  return out;
}

/** The organizer's text with the attendee's PARTSTAT on each of their ATTENDEE lines (the lines keep their order). */
function withPartstat(ics: string, addresses: readonly string[], partstat: string): string {
  const mine = new Set(addresses.map((a) => `mailto:${a.toLowerCase()}`));
  return editEvents(ics, (e) => {
    const all = e.getAll('ATTENDEE');
    if (!all.some((a) => mine.has(a.value.toLowerCase()) && a.params['PARTSTAT'] !== partstat)) return;
    e.remove('ATTENDEE');
    for (const a of all) e.add('ATTENDEE', a.value, mine.has(a.value.toLowerCase()) ? { ...a.params, PARTSTAT: partstat } : a.params);
  });
}

/**
 * The replacement for an attendee's copy that no longer parses (see the rule at the top of this file):
 * `organizerIcs` with the attendee's readable PARTSTAT and VALARMs carried over, and the reason for the history
 * row. `error` is why the copy did not parse; `attendee` names them (UPN) and `addresses` are all of theirs;
 * `during` an undo, no later undo puts the damaged text back (it stays in the attendee_copy_damage row).
 */
export function replaceDamagedCopy(damaged: string, organizerIcs: string, attendee: string, addresses: readonly string[], error: string, during: 'migration' | 'undo' = 'migration'): DamagedCopyOutcome {
  const parts = readableParts(damaged, addresses);
  const head = `AttendeeCopyDamaged: ${attendee}'s copy no longer parses (${error})`;
  const kept = `other personal properties could not be read; the damaged text is kept${during === 'migration' ? ' and undo puts it back' : ' with this row'}`;
  try {
    let ics = withAlarms(organizerIcs, parts.alarms);
    if (parts.partstat) ics = withPartstat(ics, addresses, parts.partstat);
    editEvents(ics, () => undefined); // parses it: a replacement that would not parse is never written
    const carried = [parts.partstat ? `PARTSTAT=${parts.partstat}` : 'no PARTSTAT (none readable)', `${parts.alarms.length} alarm${parts.alarms.length === 1 ? '' : 's'}`];
    return { ics, reason: `${head}; replaced by the organizer's update (RFC 5546 §3.2.2) carrying over their ${carried.join(' and ')}; ${kept}` };
  } catch (err) {
    if (!(err instanceof MmsError)) throw err;
    return { ics: null, reason: `${head}; left as it is, because the organizer's update with their ${parts.alarms.length} readable alarm(s) would not parse either (${err.message}); the copy keeps the old block` };
  }
}
