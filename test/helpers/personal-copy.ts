// An internal attendee's own edits of their copy of a meeting, as a mail client makes them: their response
// (PARTSTAT on their ATTENDEE line), a reminder (VALARM) and a category. Worlds give attendees such copies so that a
// migration must take the copy-rewrite path (keep all three, replace only the block) instead of copying the
// organizer's text; `personalOf` reads them back with ical.js, independently of the code under test.
import ICAL from 'ical.js';
import { foldLine } from '../../src/ical/index.js';

/** What an attendee made their own in their copy. */
export interface PersonalCopy {
  readonly partstat: string;
  /** TRIGGER of each VALARM, in order. */
  readonly alarms: readonly string[];
  readonly categories: readonly string[];
}

/** Responses handed out in turn (never NEEDS-ACTION, the organizer's text). */
export const PARTSTATS = ['ACCEPTED', 'TENTATIVE', 'DECLINED'] as const;

/** The n-th attendee copy's own edits: responses, reminder times and a category that differ from copy to copy. */
export function personalFor(attendee: string, n: number): PersonalCopy {
  return {
    partstat: PARTSTATS[n % PARTSTATS.length] as string,
    alarms: [`-PT${5 * (1 + (n % 4))}M`],
    categories: [`Follow-up ${attendee.split('@')[0]}`],
  };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The attendee's edit done on the text: their ATTENDEE line's PARTSTAT, and a CATEGORIES line and a VALARM added
 * at the end of the (first) VEVENT. Every other byte stays; the edited line is folded again at 75 octets.
 */
export function personalize(ics: string, attendee: string, mine: PersonalCopy): string {
  const eol = ics.includes('\r\n') ? '\r\n' : '\n';
  const logical: string[] = [];
  for (const line of ics.split(eol)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && logical.length) logical[logical.length - 1] += line.slice(1);
    else logical.push(line);
  }
  const own = new RegExp(`^ATTENDEE[;:].*:mailto:${escapeRegExp(attendee)}$`, 'i');
  const at = logical.findIndex((l) => own.test(l) && l.includes('PARTSTAT=NEEDS-ACTION'));
  const end = logical.indexOf('END:VEVENT');
  if (at < 0 || end < 0) throw new Error(`personalize: no ATTENDEE line of ${attendee} with PARTSTAT=NEEDS-ACTION (or no END:VEVENT); schedule the meeting with that attendee first`);
  logical[at] = (logical[at] as string).replace('PARTSTAT=NEEDS-ACTION', `PARTSTAT=${mine.partstat}`);
  logical.splice(end, 0,
    `CATEGORIES:${mine.categories.join(',')}`,
    ...mine.alarms.flatMap((t) => ['BEGIN:VALARM', 'ACTION:DISPLAY', `DESCRIPTION:Reminder for ${attendee}`, `TRIGGER:${t}`, 'END:VALARM']));
  return logical.map((l) => foldLine(l, eol)).join(eol);
}

/** What `attendee`'s copy holds of their own, read with ical.js (independent of the code under test). */
export function personalOf(ics: string, attendee: string): PersonalCopy {
  const ev = ICAL.Component.fromString(ics).getFirstSubcomponent('vevent');
  if (!ev) throw new Error(`no VEVENT in ${ics.slice(0, 200)}`);
  const me = ev.getAllProperties('attendee').find((p) => String(p.getFirstValue()).toLowerCase() === `mailto:${attendee.toLowerCase()}`);
  return {
    partstat: String(me?.getParameter('partstat') ?? '(no ATTENDEE line)'),
    alarms: ev.getAllSubcomponents('valarm').map((a) => String(a.getFirstPropertyValue('trigger'))),
    categories: ev.getAllProperties('categories').flatMap((p) => p.getValues().map(String)),
  };
}
