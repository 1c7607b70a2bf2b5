import { randomUUID } from 'node:crypto';
import { MmsError } from '../../domain/errors.js';
import { indexObject } from '../../ical/index.js';
import type { Db } from '../../store/index.js';
import { clearIntents, listIntents, recordIntents } from '../../store/intent-repo.js';
import { writeTransaction, type Tx } from '../../store/transaction.js';
import { factsOf } from '../facts.js';
import {
  copyKey, type CopyKey, type CreateOutcome, type MeetingObject, type UserMailbox, type WriteIntent, type WriteOutcome, type WriteUnit,
} from '../mailbox-store.js';
import type { DavClient } from './dav-client.js';
import { fromServer, toServer } from './object-text.js';
import { asMmsError, eventByUid, eventsFrom, getObject, putObject, uidIn, type DavObject } from './objects.js';

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

const ORGANIZER_LINE = /^ORGANIZER(?:;[^:\r\n]*)?:(?:mailto:)?([^\r\n]*)$/im;


/**
 * An attendee's copy as the engine uses it: text, reference and version. Its indexed facts are the organizer's
 * business, so the copy is not indexed (an ical.js parse per copy), only its UID read.
 */
function copyFrom(obj: DavObject): MeetingObject {
  const { ics } = fromServer(obj.ics);
  return {
    uid: uidIn(ics) ?? obj.href, ics, organizer: null, firstStart: null, lastEnd: null, attendeeCount: 0, attendees: [], onlineMeetingId: null, meetingType: null, summary: '',
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
      uid: uidIn(ics) ?? obj.href, ics, organizer: ORGANIZER_LINE.exec(unfolded)?.[1]?.trim().toLowerCase() ?? null,
      firstStart: null, lastEnd: null, attendeeCount: 0, attendees: [], onlineMeetingId: '', meetingType: null, summary: '', floatingZone: null, unknownZones: [], zonesDerived: true,
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
    // Each new intent gets a marker of its own: an object found carrying it was written by this very intent.
    const fresh = intents.filter((i) => !i.resumed).map((i) => ({ correlationId, uid: i.uid, ref: i.ref, payload: i.payload, marker: randomUUID() }));
    if (fresh.length) await recordIntents(db.kysely, { tenantId, userId: user.id }, fresh, this.input.now());
    const keys = new Map<string, { correlationId: string; marker: string }>([
      ...intents.flatMap((i) => (i.resumed ? [[i.uid, i.resumed] as const] : [])),
      ...fresh.map((i) => [i.uid, { correlationId, marker: i.marker }] as const),
    ]);
    return body(new CalDavUnit(this, keys));
  }

  async unfinished(): Promise<Array<{ intent: WriteIntent; o: MeetingObject }>> {
    const { db, tenantId, user } = this.input;
    const intents = await listIntents(db.kysely, tenantId, user.id);
    if (!intents.length) return [];
    const client = this.input.mailbox.client;
    const seen = await this.guard(() => Promise.all(intents.map(async (intent) => ({ intent, obj: await getObject(client, intent.ref) }))));
    const written = seen.filter((s) => s.obj && fromServer(s.obj.ics).marker === s.intent.marker);
    await clearIntents(db.kysely, seen.filter((s) => !written.includes(s)).map((s) => s.intent));
    return written.map(({ intent: i, obj }) => ({
      intent: { uid: i.uid, ref: i.ref, payload: i.payload, resumed: { correlationId: i.correlationId, marker: i.marker } },
      o: meetingFrom(obj as DavObject, this.input.timeZone),
    }));
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
            const uid = uidIn(obj.ics);
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
  /** `intents`: by UID, the migration and marker of each write this batch may make (none: write unmarked). */
  constructor(private readonly mb: CalDavUserMailbox, private readonly intents: ReadonlyMap<string, { correlationId: string; marker: string }>) {}

  async replace(writes: ReadonlyArray<{ o: MeetingObject; ics: string }>): Promise<Map<string, WriteOutcome>> {
    const { client } = this.mb.settings.mailbox;
    // Every write is settled on its own: one refused or failed PUT never hides the others that landed.
    const settled = await Promise.allSettled(writes.map(({ o, ics }) => putObject(client, o.ref, toServer(ics, this.intents.get(o.uid)?.marker ?? null), { ifMatch: o.etag })));
    return new Map(writes.map(({ o }, k): readonly [string, WriteOutcome] => {
      const r = settled[k] as PromiseSettledResult<Awaited<ReturnType<typeof putObject>>>;
      if (r.status === 'fulfilled') return [o.ref, r.value.outcome];
      const err = asMmsError(r.reason, this.mb.where);
      return [o.ref, err instanceof MmsError ? err : new MmsError('Transient', `${this.mb.where}: ${String(err)}`)];
    }));
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
      // Changed or deleted meanwhile: the engine reads it again (and gives a deleted copy back, as the built-in store does).
      return r.outcome === 'Written' ? copyKey(w.userId, w.copy.uid) : undefined;
    })));
    return new Set(done.filter((x) => x !== undefined));
  }

  async createCopy(userId: string, uid: string, ics: string): Promise<CreateOutcome> {
    const where = await this.mb.guard(() => this.mb.settings.calendarsOf(userId));
    const calendar = where?.calendars[0];
    if (!where || !calendar) return 'NoCalendar';
    const href = new URL(`${encodeURIComponent(uid)}.ics`, calendar.endsWith('/') ? calendar : `${calendar}/`).href;
    const r = await this.mb.guard(() => putObject(where.client, href, toServer(ics, null), 'absent'));
    return r.outcome === 'Written' ? 'Created' : 'Exists';
  }

  versionAfter(): null {
    return null;
  }

  async record(fn: (tx: Tx) => Promise<void>, settled: readonly string[]): Promise<void> {
    const keys = settled.flatMap((uid) => {
      const i = this.intents.get(uid);
      return i ? [{ correlationId: i.correlationId, uid }] : [];
    });
    await writeTransaction(this.mb.settings.db, async (tx) => {
      // Whoever clears the intents records the writes: a second worker that finished them first (after this one's
      // lease expired) has recorded and announced them, so this transaction must not.
      const cleared = await clearIntents(tx, keys);
      if (cleared !== keys.length) throw new MmsError('Transient', `${this.mb.where}: another worker recorded ${keys.length - cleared} of this batch's writes first; the request goes on from there`);
      await fn(tx);
    });
  }
}
