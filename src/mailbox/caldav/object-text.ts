import { editEvents } from '../../ical/index.js';
import { mapPropertyValues } from '../../ical/line-values.js';

/** The property that marks an object with the migration that wrote it (issue 8 §4: exactly once across a PUT). */
export const MIGRATION_MARKER = 'X-MMS-MIGRATION';

const MARKER_LINE = /^X-MMS-MIGRATION(?:;[^:\r\n]*)?:([^\r\n]*)$/im;

/**
 * The text MMS PUTs to a calendar server: the migration's marker on every VEVENT, and the commas of `tel:` URIs in
 * CONFERENCE written as `%2C`. Why the second: Radicale stores objects through vobject, which reads an unknown
 * property's value as a comma-separated list and keeps only its first item, so
 * `CONFERENCE;VALUE=URI:tel:+12065550100,,4346164%23` came back as `tel:+12065550100`, the conference ID gone
 * (measured against Radicale 3.1). `%2C` is the same character percent-encoded, which RFC 3986 §2.1 allows in a
 * URI and every dialer decodes before dialing; it reads back intact from every server we tried.
 */
export function toServer(ics: string, correlationId: string | null): string {
  const marked = correlationId === null ? ics : editEvents(ics, (e) => e.set(MIGRATION_MARKER, correlationId));
  return mapPropertyValues(marked, 'CONFERENCE', (v) => (/^tel:/i.test(v) ? v.replace(/,/g, '%2C') : v));
}

/**
 * The text as the engine plans on it: the marker read and taken out (it is ours, not the meeting's), and `%2C` in
 * `tel:` CONFERENCE URIs read back as the commas the block renderer writes — so a meeting written by MMS plans as
 * up to date, and one written by someone else with either form is compared fairly.
 */
export function fromServer(ics: string): { ics: string; marker: string | null } {
  const unfolded = ics.includes('X-MMS-') || ics.includes('x-mms-') ? ics.replace(/\r?\n[ \t]/g, '') : '';
  const marker = MARKER_LINE.exec(unfolded)?.[1]?.trim() ?? null;
  let text = ics;
  if (marker !== null) {
    try {
      text = editEvents(text, (e) => void e.remove(MIGRATION_MARKER));
    } catch {
      // An object that does not parse keeps its text; planning skips it with the reason.
    }
  }
  if (/%2C/i.test(text)) text = mapPropertyValues(text, 'CONFERENCE', (v) => (/^tel:/i.test(v) ? v.replace(/%2C/gi, ',') : v));
  return { ics: text, marker };
}
