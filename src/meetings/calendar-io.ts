import { decodeIcs, joinCalendar, splitCalendar, type SplitResult } from '../ical/index.js';
import { MmsError } from '../domain/errors.js';
import type { User } from '../domain/directory.js';
import { BuiltinMailboxStore } from '../mailbox/index.js';
import { requireUser } from '../store/directory-repo.js';
import type { Db } from '../store/index.js';
import { writeTransaction } from '../store/transaction.js';
import { addressesOf } from './schedule-meeting.js';

const mailboxOwner = (db: Db, tenantId: string, identity: string): Promise<User> => requireUser(db.kysely, tenantId, identity);

/**
 * A calendar file's text (strict UTF-8, see decodeIcs) and its objects: a file that is not iCalendar fails with one
 * line naming `source`. Import-MmsCalendar and the manual tool read files through it.
 */
export function readCalendarFile(bytes: Uint8Array, source: string): { text: string; split: SplitResult } {
  let text: string;
  try {
    text = decodeIcs(bytes);
  } catch (err) {
    if (err instanceof MmsError) throw new MmsError(err.code, `${source}, ${err.message}`);
    throw err;
  }
  return { text, split: splitCalendar(text, source) };
}

export interface ImportResult {
  /** Objects new to the mailbox. */
  readonly imported: number;
  /** Objects that replaced one with the same UID. */
  readonly replaced: number;
  /** Of those, how many carry an online meeting. */
  readonly onlineMeetings: number;
  /** One per component or object that did not come in; `message` names it once: `<uid or line N>: …; <fix>`. */
  readonly problems: ReadonlyArray<{ uid: string | null; line: number; message: string }>;
}

/**
 * Import-MmsCalendar: stores each UID of an iCalendar file in the user's mailbox exactly as received, one
 * VCALENDAR of the file at a time (see splitCalendar). A component that does not parse, or a UID the file
 * holds twice, is reported and skipped; the rest still come in. An object with a UID already in the mailbox
 * replaces it.
 *
 * @param source what to call the file in messages (its path).
 * @throws MmsError('Invalid') naming `source` when the file is not UTF-8, is empty, or is not iCalendar.
 */
export async function importCalendar(
  db: Db,
  tenantId: string,
  identity: string,
  bytes: Uint8Array,
  now: () => number,
  source = 'the calendar file',
): Promise<ImportResult> {
  const user = await mailboxOwner(db, tenantId, identity);
  const { objects, problems } = readCalendarFile(bytes, source).split;
  const found = [...problems];
  let imported = 0;
  let replaced = 0;
  let onlineMeetings = 0;
  await writeTransaction(db, async (tx) => {
    const store = new BuiltinMailboxStore(tx, tenantId, now);
    for (const o of objects) {
      try {
        const existed = await store.get(user.id, o.uid);
        const stored = await store.put(user.id, o.ics);
        if (existed) replaced++;
        else imported++;
        if (stored.onlineMeetingId) onlineMeetings++;
      } catch (err) {
        // A transient error (a full disk, a lost connection) is the database's, not this object's: stop the import.
        if (!(err instanceof MmsError) || err.code === 'Transient') throw err;
        // The store's messages mostly begin with the UID already; name the object once either way.
        const message = err.message.startsWith(`${o.uid}: `) ? err.message : `${o.uid}: ${err.message}`;
        found.push({ uid: o.uid, line: 0, message });
      }
    }
  });
  return { imported, replaced, onlineMeetings, problems: found };
}

/**
 * Export-MmsCalendar: the mailbox as one iCalendar file, objects in the order they came in. Objects that came
 * with different calendar-level lines (METHOD, X-WR-CALNAME, PRODID) each keep theirs in a VCALENDAR of their
 * own (RFC 5545 §3.4 allows several in one file), so an imported file comes back as it was (see joinCalendar).
 */
export async function exportCalendar(db: Db, tenantId: string, identity: string, now: () => number): Promise<string> {
  const user = await mailboxOwner(db, tenantId, identity);
  const objects = await new BuiltinMailboxStore(db.kysely, tenantId, now).list(user.id);
  if (!objects.length) return 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//MMS//Meeting Migration Service//EN\r\nEND:VCALENDAR\r\n';
  return joinCalendar(objects.map((o) => o.ics));
}

/** Get-MmsMeeting rows: a mailbox's meetings, or only those the user organized. */
export async function listMeetings(db: Db, tenantId: string, identity: string, opts: { organizerOnly?: boolean }, now: () => number) {
  const user = await mailboxOwner(db, tenantId, identity);
  const mine = new Set(addressesOf(user));
  const objects = await new BuiltinMailboxStore(db.kysely, tenantId, now).list(user.id);
  return objects
    .filter((o) => !opts.organizerOnly || (o.organizer !== null && mine.has(o.organizer)))
    .map((o) => ({
      Uid: o.uid,
      Subject: o.summary,
      StartTime: o.firstStart,
      EndTime: o.lastEnd,
      Organizer: o.organizer ?? '',
      Attendees: o.attendeeCount,
      OnlineMeetingId: o.onlineMeetingId ?? '',
      // SfB or Teams (issue 12); '' for an appointment that is no online meeting.
      MeetingType: o.meetingType ?? '',
      Version: o.version,
    }));
}
