import { indexObject } from '../../ical/index.js';
import type { Db } from '../../store/index.js';
import { clearIntents, listIntents, recordIntents } from '../../store/intent-repo.js';
import { writeTransaction, type Tx } from '../../store/transaction.js';
import { factsOf } from '../facts.js';
import {
  copyKey, type CopyKey, type MeetingObject, type UserMailbox, type WriteIntent, type WriteOutcome, type WriteUnit,
} from '../mailbox-store.js';
import type { DavClient } from './dav-client.js';
import { fromServer, toServer } from './object-text.js';
import { asMmsError, eventByUid, eventsFrom, getObject, putObject, type DavObject } from './objects.js';

/** A user's calendars on the host, and a client that reaches them. */
export interface DavCalendars {
  readonly client: DavClient;
  readonly calendars: readonly string[];
}

export interface CalDavMailboxInput {
  readonly db: Db;
  readonly tenantId: string;
  readonly user: { readonly id: string; readonly upn: string };
  readonly host: { readonly id: string; readonly name: string };
  readonly mailbox: DavCalendars;
  /** The server schedules (RFC 6638 `calendar-auto-schedule`). */
  readonly autoSchedule: boolean;
  /** The organizer's IANA zone, in which floating times are read (as the built-in store reads them). */
  readonly timeZone: string;
  readonly now: () => number;
  /** Users (of `ids`) whose mailbox is on this host too. */
  readonly onSameHost: (ids: readonly string[]) => Promise<Set<string>>;
  /** Another user's calendars on this host (their credentials or the service account); undefined when unreachable. */
  readonly calendarsOf: (userId: string) => Promise<DavCalendars | undefined>;
}

/**
 * The farthest back the listing reaches: a meeting whose zone nobody could resolve is judged with a 14-hour margin
 * (plan-meeting.ts), so the server's time-range starts that much earlier and planning makes the final cut.
 */
const LISTING_MARGIN_MS = 14 * 3_600_000;

const UID_LINE = /^UID(?:;[^:\r\n]*)?:([^\r\n]*)$/im;
const ORGANIZER_LINE = /^ORGANIZER(?:;[^:\r\n]*)?:(?:mailto:)?([^\r\n]*)$/im;

const uidOf = (ics: string): string | undefined => UID_LINE.exec(ics.replace(/\r?\n[ \t]/g, ''))?.[1]?.trim();

/**
 * An attendee's copy as the engine uses it: text, reference and version. Its indexed facts are the organizer's
 * business, so the copy is not indexed (an ical.js parse per copy), only its UID read.
 */
function copyFrom(obj: DavObject): MeetingObject {
  const { ics } = fromServer(obj.ics);
  return {
    uid: uidOf(ics) ?? obj.href, ics, organizer: null, firstStart: null, lastEnd: null, attendeeCount: 0, attendees: [], onlineMeetingId: null, summary: '',
    floatingZone: null, unknownZones: [], zonesDerived: true, ref: obj.href, etag: obj.etag,
  };
}

/** An object as the engine sees it: the text with our marker and URI encoding taken out, indexed like the built-in store. */
export function meetingFrom(obj: DavObject, timeZone: string): MeetingObject {
  const { ics } = fromServer(obj.ics);
  try {
    return { ...factsOf(indexObject(ics, { timeZone }), ics), ref: obj.href, etag: obj.etag };
  } catch {
    // It does not parse: keep what a line scan finds, so that planning skips it with the reason (never drops it).
    const unfolded = ics.replace(/\r?\n[ \t]/g, '');
    return {
      uid: uidOf(ics) ?? obj.href, ics, organizer: ORGANIZER_LINE.exec(unfolded)?.[1]?.trim().toLowerCase() ?? null,
      firstStart: null, lastEnd: null, attendeeCount: 0, attendees: [], onlineMeetingId: '', summary: '', floatingZone: null, unknownZones: [], zonesDerived: true,
      ref: obj.href, etag: obj.etag,
    };
  }
}

/**
 * A user's mailbox on a CalDAV server. No transaction spans a PUT and the database, so each batch records its
 * intents first, PUTs objects that carry the migration's marker (If-Match on the ETag read: 412 = edited meanwhile,
 * re-read and re-planned; 404 = deleted), then records the ledger and notifications and clears the intents in one
 * transaction. After a crash, `unfinished` tells written-not-recorded (marker present) from never written.
 */
export class CalDavUserMailbox implements UserMailbox {
  readonly where: string;
  readonly scheduling: 'Server' | 'Mms';
  private readonly copyIndex = new Map<string, Promise<Map<string, DavObject>>>();

  constructor(private readonly input: CalDavMailboxInput) {
    this.where = `mailbox host '${input.host.name}' (${input.user.upn})`;
    this.scheduling = input.autoSchedule ? 'Server' : 'Mms';
  }

  /** Runs a DAV call, its failure turned into the queue's terms (transient or not) naming the host and user. */
  async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw asMmsError(err, this.where);
    }
  }

  async copyHolders(userIds: readonly string[]): Promise<Set<string>> {
    if (this.scheduling === 'Server' || !userIds.length) return new Set();
    return this.input.onSameHost(userIds);
  }

  async listOrganized(organizers: readonly string[], endsAfter: number): Promise<MeetingObject[]> {
    const wanted = new Set(organizers.map((o) => o.toLowerCase()));
    const from = Math.max(endsAfter, this.input.now() - LISTING_MARGIN_MS);
    const { client, calendars } = this.input.mailbox;
    const found = await this.guard(async () => (await Promise.all(calendars.map((c) => eventsFrom(client, c, from)))).flat());
    return found.map((o) => meetingFrom(o, this.input.timeZone))
      .filter((m) => m.organizer !== null && wanted.has(m.organizer))
      .sort((a, b) => (a.firstStart ?? 0) - (b.firstStart ?? 0) || a.ref.localeCompare(b.ref));
  }

  async read(ref: string): Promise<MeetingObject | undefined> {
    const obj = await this.guard(() => getObject(this.input.mailbox.client, ref));
    return obj && meetingFrom(obj, this.input.timeZone);
  }

  async writeBatch<T>(correlationId: string, intentsOf: () => readonly WriteIntent[], body: (unit: WriteUnit) => Promise<T>): Promise<T> {
    const { db, tenantId, user } = this.input;
    const intents = intentsOf();
    if (intents.length) await recordIntents(db.kysely, { correlationId, tenantId, userId: user.id }, intents, this.input.now());
    return body(new CalDavUnit(this, correlationId, intents.map((i) => i.uid)));
  }

  async unfinished(correlationId: string): Promise<Array<{ intent: WriteIntent; o: MeetingObject }>> {
    const intents = await listIntents(this.input.db.kysely, correlationId);
    if (!intents.length) return [];
    const client = this.input.mailbox.client;
    const seen = await this.guard(() => Promise.all(intents.map(async (intent) => ({ intent, obj: await getObject(client, intent.ref) }))));
    const written = seen.filter((s) => s.obj && fromServer(s.obj.ics).marker === correlationId);
    const never = seen.filter((s) => !written.includes(s)).map((s) => s.intent.uid);
    await clearIntents(this.input.db.kysely, correlationId, never);
    return written.map((s) => ({ intent: s.intent, o: meetingFrom(s.obj as DavObject, this.input.timeZone) }));
  }

  /**
   * An attendee's copies by UID: their calendars listed once per migration (one calendar-query each, the same time
   * range as the organizer's listing) instead of one query per meeting — a search by UID makes Radicale read the
   * whole calendar every time.
   */
  copiesOf(userId: string): Promise<Map<string, DavObject>> {
    let hit = this.copyIndex.get(userId);
    if (!hit) {
      hit = (async () => {
        const where = await this.input.calendarsOf(userId);
        const byUid = new Map<string, DavObject>();
        if (!where) return byUid;
        const from = this.input.now() - LISTING_MARGIN_MS;
        for (const cal of where.calendars) {
          for (const obj of await eventsFrom(where.client, cal, from)) {
            const uid = uidOf(obj.ics);
            if (uid !== undefined && !byUid.has(uid)) byUid.set(uid, obj);
          }
        }
        return byUid;
      })();
      hit.catch(() => this.copyIndex.delete(userId));
      this.copyIndex.set(userId, hit);
    }
    return hit;
  }

  /** For the unit: the input, read-only. */
  get settings(): CalDavMailboxInput {
    return this.input;
  }
}

/** One batch on a CalDAV server: PUTs at once (the host's limiter bounds them), records in a transaction after. */
class CalDavUnit implements WriteUnit {
  constructor(private readonly mb: CalDavUserMailbox, private readonly correlationId: string, private readonly intentUids: readonly string[]) {}

  async replace(writes: ReadonlyArray<{ o: MeetingObject; ics: string }>): Promise<Map<string, WriteOutcome>> {
    const { client } = this.mb.settings.mailbox;
    const done = await this.mb.guard(() => Promise.all(writes.map(async ({ o, ics }) => {
      const r = await putObject(client, o.ref, toServer(ics, this.correlationId), { ifMatch: o.etag });
      return [o.ref, r.outcome] as const;
    })));
    return new Map(done);
  }

  async readCopies(keys: readonly CopyKey[], opts: { fresh?: boolean } = {}): Promise<Map<string, MeetingObject>> {
    const found = await this.mb.guard(() => Promise.all(keys.map(async (k): Promise<readonly [string, MeetingObject] | undefined> => {
      let obj: DavObject | undefined;
      if (opts.fresh) {
        const where = await this.mb.settings.calendarsOf(k.userId);
        for (const cal of where?.calendars ?? []) {
          obj = await eventByUid(where!.client, cal, k.uid);
          if (obj) break;
        }
      } else {
        obj = (await this.mb.copiesOf(k.userId)).get(k.uid);
      }
      return obj && [copyKey(k.userId, k.uid), copyFrom(obj)] as const;
    })));
    return new Map(found.filter((x) => x !== undefined));
  }

  async replaceCopies(writes: ReadonlyArray<{ userId: string; copy: MeetingObject; ics: string }>): Promise<Set<string>> {
    const done = await this.mb.guard(() => Promise.all(writes.map(async (w) => {
      const where = await this.mb.settings.calendarsOf(w.userId);
      if (!where) return undefined;
      const r = await putObject(where.client, w.copy.ref, toServer(w.ics, null), { ifMatch: w.copy.etag });
      // A copy deleted meanwhile is the attendee's choice: nothing to update.
      return r.outcome === 'Conflict' ? undefined : copyKey(w.userId, w.copy.uid);
    })));
    return new Set(done.filter((x) => x !== undefined));
  }

  async createCopy(userId: string, uid: string, ics: string): Promise<boolean> {
    const where = await this.mb.guard(() => this.mb.settings.calendarsOf(userId));
    const calendar = where?.calendars[0];
    if (!where || !calendar) return true; // no calendar to put it in: the attendee is told by the ledger's count only
    const href = new URL(`${encodeURIComponent(uid)}.ics`, calendar.endsWith('/') ? calendar : `${calendar}/`).href;
    const r = await this.mb.guard(() => putObject(where.client, href, toServer(ics, null), 'absent'));
    return r.outcome === 'Written';
  }

  versionAfter(): null {
    return null;
  }

  async record(fn: (tx: Tx) => Promise<void>): Promise<void> {
    await writeTransaction(this.mb.settings.db, async (tx) => {
      await fn(tx);
      await clearIntents(tx, this.correlationId, this.intentUids);
    });
  }
}
