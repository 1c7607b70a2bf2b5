// Puts the planned meetings into the mailboxes through the real meeting operations: New-MmsMeeting for every
// add-in meeting, Import-MmsCalendar for what the add-in cannot make (series exceptions, pasted blocks).
import { buildEvent, editEvents, type EventEditor } from '../ical/index.js';
import { renderBlock } from '../domain/meeting-block/index.js';
import type { User } from '../domain/directory.js';
import { BuiltinMailboxStore } from '../mailbox/index.js';
import { blockInputFor, importCalendar, scheduleMeeting } from '../meetings/index.js';
import type { Db } from '../store/index.js';
import { upnOf } from './contoso-directory.js';
import type { MeetingPlan, PastedMeeting, PlannedMeeting } from './meeting-plan.js';
import type { DemoDirectory } from './provision.js';
import { DAY, formatLocal, formatUtc, fromWall, HOUR, weekday } from './wall-clock.js';

export interface CalendarCounts {
  /** Calendar objects in the organizers' mailboxes. */
  readonly meetings: number;
  /** Copies in internal attendees' mailboxes. */
  readonly attendeeCopies: number;
}

/** Mailboxes that hold a copy of a meeting: internal attendees whose mailbox is online. */
function copyHolders(dir: DemoDirectory, attendees: readonly string[]): User[] {
  const byUpn = new Map([...dir.users.values()].map((u) => [u.upn, u]));
  return attendees.map((a) => byUpn.get(a)).filter((u): u is User => u !== undefined && u.mailboxLocation === 'Online');
}

async function importInto(db: Db, dir: DemoDirectory, upns: readonly string[], ics: string, now: () => number): Promise<void> {
  const bytes = Buffer.from(ics, 'utf8');
  for (const upn of upns) {
    const r = await importCalendar(db, dir.tenant.id, upn, bytes, now);
    if (r.problems.length) throw new Error(`demo: importing into ${upn} failed: ${r.problems.map((p) => p.message).join('; ')}`);
  }
}

/**
 * Adds a moved and a cancelled occurrence to a series the add-in scheduled, the way a calendar server keeps
 * them: VEVENTs with RECURRENCE-ID, copied from the master (so they carry the same block and metadata), without
 * RRULE. Every other series also loses one occurrence through EXDATE on the master, as Outlook exports it.
 */
async function addExceptions(db: Db, dir: DemoDirectory, m: PlannedMeeting, index: number, now: () => number): Promise<number> {
  const x = m.exceptions;
  const organizer = dir.users.get(m.organizer.alias);
  if (!x || !organizer) return 0;
  const stored = await new BuiltinMailboxStore(db.kysely, dir.tenant.id, now).get(organizer.id, m.uid);
  if (!stored) throw new Error(`demo: series ${m.uid} is missing from ${organizer.upn}'s mailbox`);
  const tz = m.organizer.timeZone;
  const occurrence = (k: number): number => x.wallStart + k * 7 * DAY;
  // Write times the way the master does: with its TZID when it has one, else in UTC.
  let tzid: string | undefined;
  editEvents(stored.ics, (e) => {
    tzid ??= e.getAll('DTSTART')[0]?.params['TZID'];
  });
  const setTime = (e: EventEditor, name: string, wall: number, add = false): void => {
    const [value, params] = tzid ? [formatLocal(wall), { TZID: tzid }] : [formatUtc(fromWall(tz, wall)), {}];
    if (add) e.add(name, value, params);
    else e.set(name, value, params);
  };
  const exception = (k: number, startWall: number, cancelled: boolean): string =>
    editEvents(stored.ics, (e) => {
      e.remove('RRULE');
      setTime(e, 'RECURRENCE-ID', occurrence(k), true);
      setTime(e, 'DTSTART', startWall);
      setTime(e, 'DTEND', startWall + x.durationMs);
      e.set('SEQUENCE', '1');
      if (cancelled) e.set('STATUS', 'CANCELLED');
    });
  const movedFrom = occurrence(x.moved);
  const movedTo = movedFrom + (weekday(movedFrom) === 5 ? -DAY : DAY) + HOUR; // next day an hour later (Thursday for a Friday)
  const master = index % 2 === 1 ? editEvents(stored.ics, (e) => setTime(e, 'EXDATE', occurrence(x.cancelled + 2), true)) : stored.ics;
  const ics = master + exception(x.moved, movedTo, false) + exception(x.cancelled, occurrence(x.cancelled), true);
  const holders = [organizer, ...copyHolders(dir, m.attendees)];
  await importInto(db, dir, holders.map((u) => u.upn), ics, now);
  return holders.length - 1;
}

/**
 * A meeting whose organizer pasted the block of an older meeting into a plain invitation (as people do in
 * Outlook): the block is there in DESCRIPTION, but no X-MMS-ONLINE-MEETING-ID or X-MICROSOFT-* property ties it
 * to an online meeting, so a migration has to leave it alone and say so.
 */
async function addPasted(db: Db, dir: DemoDirectory, p: PastedMeeting, now: () => number): Promise<number> {
  const organizer = dir.users.get(p.organizer.alias);
  if (!organizer) return 0;
  const block = renderBlock(blockInputFor(organizer, dir.tenant, dir.bridges, p.copiedMeetingId));
  const holders = copyHolders(dir, p.attendees);
  const names = new Map(holders.map((u) => [u.upn, u.displayName]));
  const ics = buildEvent({
    uid: p.uid,
    summary: p.subject,
    start: p.start,
    end: p.end,
    timeZone: p.timeZone,
    organizer: { address: organizer.upn, name: organizer.displayName },
    attendees: p.attendees.map((a) => ({ address: a, name: names.get(a) })),
    description: `${p.intro}\n\n${block.text}\n`,
    location: 'Conference Room 4.1 (Building 25)',
    dtstamp: now(),
  });
  await importInto(db, dir, [organizer.upn, ...holders.map((u) => u.upn)], ics, now);
  return holders.length;
}

interface Task {
  /** The mailboxes the task writes. */
  readonly mailboxes: readonly string[];
  run(): Promise<number>;
}

/**
 * Runs tasks up to `limit` at a time, each only after every earlier task that writes one of its mailboxes has
 * finished: every mailbox still receives its meetings in plan order (so it lists them the same way on every
 * load), while meetings of unrelated mailboxes overlap where the database allows it. SQLite's one connection
 * serializes them anyway; PostgreSQL runs them side by side. The first failure is rethrown once all have settled.
 */
async function inMailboxOrder(tasks: readonly Task[], limit: number): Promise<number[]> {
  let free = limit;
  const waiting: Array<() => void> = [];
  const acquire = (): Promise<void> => (free > 0 ? (free--, Promise.resolve()) : new Promise((r) => waiting.push(r)));
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  const last = new Map<string, Promise<unknown>>();
  const running = tasks.map((task) => {
    const before = task.mailboxes.map((m) => last.get(m)).filter((p): p is Promise<unknown> => p !== undefined);
    const done = (async () => {
      await Promise.all(before);
      await acquire();
      try {
        return await task.run();
      } finally {
        release();
      }
    })();
    for (const m of task.mailboxes) last.set(m, done);
    return done;
  });
  const settled = await Promise.allSettled(running);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<number>).value);
}

/** How many meetings are written at once (each is its own transaction). */
const PARALLEL = 6;

/** Loads the plan; each mailbox gets its meetings in plan order, so it lists them the same way on every load. */
export async function loadCalendar(db: Db, dir: DemoDirectory, plan: MeetingPlan, now: () => number): Promise<CalendarCounts> {
  const mailboxes = (organizer: string, attendees: readonly string[]): string[] => [organizer, ...copyHolders(dir, attendees).map((u) => u.upn)];
  let withExceptions = 0;
  const tasks: Task[] = plan.meetings.map((m) => {
    const index = m.exceptions ? withExceptions++ : -1;
    return {
      mailboxes: mailboxes(upnOf(m.organizer.alias), m.attendees),
      async run() {
        const r = await scheduleMeeting(db, dir.tenant.id, {
          organizer: upnOf(m.organizer.alias),
          subject: m.subject,
          start: m.start,
          end: m.end,
          attendees: m.attendees,
          body: m.body,
          recurrence: m.recurrence,
          timeZone: m.timeZone,
          uid: m.uid,
          meetingId: m.meetingId,
        }, now);
        if (m.exceptions) await addExceptions(db, dir, m, index, now);
        return r.internalCopies;
      },
    };
  });
  for (const p of plan.pasted) {
    tasks.push({ mailboxes: mailboxes(upnOf(p.organizer.alias), p.attendees), run: () => addPasted(db, dir, p, now) });
  }
  const copies = await inMailboxOrder(tasks, PARALLEL);
  return { meetings: tasks.length, attendeeCopies: copies.reduce((a, b) => a + b, 0) };
}
