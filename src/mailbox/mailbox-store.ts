import type { MmsError } from '../domain/errors.js';
import type { MeetingType } from '../domain/migration.js';
import type { Tx } from '../store/transaction.js';

/** What a store indexes about one calendar object (one UID: master and exceptions), whatever store it is in. */
export interface MeetingFacts {
  readonly uid: string;
  readonly ics: string;
  readonly organizer: string | null;
  readonly firstStart: number | null;
  readonly lastEnd: number | null;
  /** Organizer included, as the documented attendee limit counts. */
  readonly attendeeCount: number;
  /** Attendee addresses (lower case), organizer excluded. */
  readonly attendees: readonly string[];
  readonly onlineMeetingId: string | null;
  /** Skype for Business or Teams meeting (issue 12, meetingTypeOf); null when the object is no online meeting. */
  readonly meetingType: MeetingType | null;
  readonly summary: string;
  /** The IANA zone floating times (no TZID, no Z) and dates were read in: the organizer's; null = it has none. */
  readonly floatingZone: string | null;
  /** TZIDs nobody could resolve; their times were read as UTC, so firstStart/lastEnd may be off by up to 14 h. */
  readonly unknownZones: readonly string[];
  /** False for objects stored before time zones were resolved (schema 003): their times were all read as UTC. */
  readonly zonesDerived: boolean;
}

/**
 * A meeting as the engine sees it in any store: an opaque reference (a row id, an href, a Graph event id) and an
 * opaque version (a counter, an ETag, an `@odata.etag`) that conditional writes are made against.
 */
export interface MeetingObject extends MeetingFacts {
  readonly ref: string;
  readonly etag: string;
}

/** One row of the built-in store. */
export interface StoredObject extends MeetingFacts {
  readonly id: number;
  readonly tenantId: string;
  readonly mailboxUserId: string;
  readonly version: number;
}

/** Thrown by a conditional write whose version no longer matches: someone wrote the object in between. */
export class VersionConflict extends Error {
  constructor(readonly uid: string) {
    super(`calendar object ${uid} changed while it was being written; read it again and retry`);
    this.name = 'VersionConflict';
  }
}

/**
 * Who tells attendees about a changed meeting, exactly one of the two per store:
 * - `Server`: the store's server schedules (RFC 6638 `calendar-auto-schedule`, Exchange): the organizer's write is
 *   the update, MMS sends nothing;
 * - `Mms`: MMS updates the copies of attendees whose mailbox is in the same store and sends iMIP to everyone else.
 */
export type Scheduling = 'Server' | 'Mms';

/**
 * What one conditional write did: written, refused because the object changed meanwhile, the object is gone, or the
 * write failed (the error says whether it is worth retrying: a failure of one object never stops the others).
 */
export type WriteOutcome = 'Written' | 'Conflict' | 'Gone' | MmsError;

/** What giving an attendee a copy did: created, one exists already (read it and rewrite it), or there is nowhere to put it. */
export type CreateOutcome = 'Created' | 'Exists' | 'NoCalendar';

/** An attendee's own copy of a meeting: their user id and the meeting's UID. */
export interface CopyKey {
  readonly userId: string;
  readonly uid: string;
}
export const copyKey = (userId: string, uid: string): string => `${userId}\u0000${uid}`;

/**
 * A write begun by a remote store and not yet recorded: stored in the database before the remote write, so that
 * after a crash the engine can tell "written, not recorded" (the object carries the migration's marker) from "never
 * written". `payload` is the engine's, opaque to the store.
 */
export interface WriteIntent {
  readonly uid: string;
  readonly ref: string;
  readonly payload: string;
  /** Set by the store on intents it returns from `unfinished` (already recorded: finish them, don't record again). */
  readonly resumed?: { readonly correlationId: string; readonly marker: string };
}

/**
 * The writes of one batch. The built-in store runs them in one database transaction with `record`; a remote store
 * writes to its server at once and runs `record` in a transaction of its own after the writes, which also clears
 * the batch's intents (DESIGN.md "Exactly once without a shared transaction").
 */
export interface WriteUnit {
  /**
   * Conditional writes of organizer objects (against the etag read); outcomes by ref. `meetingType` is the text's
   * type when the write changes it (a conversion, issue 12), for a store that keeps the type beside the text.
   */
  replace(writes: ReadonlyArray<{ o: MeetingObject; ics: string; meetingType?: MeetingType | null }>): Promise<Map<string, WriteOutcome>>;
  /**
   * Attendees' own copies in this store, by copyKey; absent ones are missing from the map. A store may answer from
   * what it read earlier in this migration (writes are conditional, so a stale answer costs a retry, never an
   * edit); `fresh` reads each one now (after a conflict).
   */
  readCopies(keys: readonly CopyKey[], opts?: { fresh?: boolean }): Promise<Map<string, MeetingObject>>;
  /** Conditional writes of copies; returns the copyKeys written (the others changed meanwhile). */
  replaceCopies(writes: ReadonlyArray<{ userId: string; copy: MeetingObject; ics: string; meetingType?: MeetingType | null }>): Promise<Set<string>>;
  /** Gives an attendee who has no copy one. */
  createCopy(userId: string, uid: string, ics: string): Promise<CreateOutcome>;
  /**
   * Makes the engine's rows (ledger, notifications) durable with the writes (see the interface comment). `settled`:
   * the UIDs whose outcome the rows record; a remote store clears their intents in the same transaction (and fails
   * it when another worker cleared them first), and keeps the others' (a write that failed may have landed).
   */
  record(fn: (tx: Tx) => Promise<void>, settled: readonly string[]): Promise<void>;
  /** The version counter a written object now has, for undo's check; null in a store without one (ETags). */
  versionAfter(o: MeetingObject): number | null;
}

/**
 * One organizer's mailbox, in whichever store it lives. The engine plans and rewrites; the store lists, reads and
 * writes conditionally, and says who delivers updates. Implementations: built-in (database rows), CalDAV.
 */
export interface UserMailbox {
  /** Where the mailbox is, for messages: "the built-in store", "mailbox host 'dav'". */
  readonly where: string;
  readonly scheduling: Scheduling;
  /** The ones among `userIds` whose own copies MMS updates in this store (none when the server schedules). */
  copyHolders(userIds: readonly string[]): Promise<Set<string>>;
  /** Objects organized by any of `organizers` that end after `endsAfter` (or never end). */
  listOrganized(organizers: readonly string[], endsAfter: number): Promise<MeetingObject[]>;
  /** One object again (after a conflict); undefined when it is gone. */
  read(ref: string): Promise<MeetingObject | undefined>;
  /**
   * Runs one batch's writes; `correlationId` marks what a remote store writes, and a remote store records
   * `intents()` before any write (a store that writes in the database's transaction never asks for them).
   */
  writeBatch<T>(correlationId: string, intents: () => readonly WriteIntent[], body: (unit: WriteUnit) => Promise<T>): Promise<T>;
  /**
   * Intents an earlier attempt left behind for this mailbox (of this migration or an earlier one): those whose
   * object carries the intent's own marker (written, never recorded) come back with the object as it is now; the
   * others (never written, or gone) are dropped. Always empty for a store that writes in the database's own
   * transaction.
   */
  unfinished(): Promise<Array<{ intent: WriteIntent; o: MeetingObject }>>;
}
