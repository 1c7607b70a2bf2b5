import { decodeIcs, joinCalendar, splitCalendar } from '../ical/index.js';
import { MmsError } from '../domain/errors.js';
import type { User } from '../domain/directory.js';
import { BuiltinMailboxStore } from '../mailbox/index.js';
import { requireUser } from '../store/directory-repo.js';
import type { Db } from '../store/index.js';
import { writeTransaction } from '../store/transaction.js';
import { addressesOf } from './schedule-meeting.js';

const mailboxOwner = (db: Db, tenantId: string, identity: string): Promise<User> => requireUser(db.kysely, tenantId, identity);

export interface ImportResult {
  readonly imported: number;
  readonly replaced: number;
  readonly onlineMeetings: number;
  readonly problems: ReadonlyArray<{ uid: string | null; line: number; message: string }>;
}

/**
 * Import-MmsCalendar: stores each UID of an iCalendar file in the user's mailbox exactly as received. A component
 * that does not parse is reported and skipped; the rest still come in. An object with a UID already in the
 * mailbox replaces it.
 */
export async function importCalendar(db: Db, tenantId: string, identity: string, bytes: Uint8Array, now: () => number): Promise<ImportResult> {
  const user = await mailboxOwner(db, tenantId, identity);
  const { objects, problems } = splitCalendar(decodeIcs(bytes));
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
        if (!(err instanceof MmsError)) throw err;
        found.push({ uid: o.uid, line: 0, message: err.message });
      }
    }
  });
  return { imported, replaced, onlineMeetings, problems: found };
}

/** Export-MmsCalendar: the mailbox as one iCalendar file, objects in the order they came in. */
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
      Version: o.version,
    }));
}
