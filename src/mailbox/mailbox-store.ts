/** One calendar object (one UID: master and exceptions) in one mailbox, with what the store indexed about it. */
export interface StoredObject {
  readonly id: number;
  readonly tenantId: string;
  readonly mailboxUserId: string;
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
  readonly summary: string;
  readonly version: number;
  /** The IANA zone floating times (no TZID, no Z) and dates were read in: the organizer's; null = it has none. */
  readonly floatingZone: string | null;
  /** TZIDs nobody could resolve; their times were read as UTC, so firstStart/lastEnd may be off by up to 14 h. */
  readonly unknownZones: readonly string[];
  /** False for objects stored before time zones were resolved (schema 003): their times were all read as UTC. */
  readonly zonesDerived: boolean;
}

/** Thrown by a conditional write whose version no longer matches: someone wrote the object in between. */
export class VersionConflict extends Error {
  constructor(readonly uid: string) {
    super(`calendar object ${uid} changed while it was being written; read it again and retry`);
    this.name = 'VersionConflict';
  }
}

/**
 * Where calendars live. The built-in store keeps them in the database; a CalDAV implementation may follow.
 * Writes are conditional on the version read, so that an edit made in between is never lost.
 */
export interface MailboxStore {
  /** Adds or replaces the object with this UID. `ifVersion` makes it conditional (null = must not exist yet). */
  put(mailboxUserId: string, ics: string, opts?: { ifVersion?: number | null }): Promise<StoredObject>;
  get(mailboxUserId: string, uid: string): Promise<StoredObject | undefined>;
  /** A mailbox's objects in import / creation order. */
  list(mailboxUserId: string): Promise<StoredObject[]>;
  /** Objects organized by any of the user's addresses (in their own mailbox) that end after `endsAfter` or never end. */
  listOrganized(mailboxUserId: string, organizers: readonly string[], endsAfter: number): Promise<StoredObject[]>;
  remove(mailboxUserId: string, uid: string): Promise<boolean>;
  getMany(keys: ReadonlyArray<{ mailboxUserId: string; uid: string }>): Promise<StoredObject[]>;
  /** Conditional block-only rewrites of many objects; returns the ids written (the others changed meanwhile). */
  replaceMany(rows: ReadonlyArray<{ id: number; ifVersion: number; ics: string }>): Promise<Set<number>>;
  /** Conditional write of a block-only rewrite (indexed facts unchanged); returns the new version. */
  replaceText(mailboxUserId: string, uid: string, ics: string, ifVersion: number): Promise<number>;
}
