import { indexObject, type ObjectIndex } from '../ical/index.js';
import { factsOf, meetingTypeOfText } from './facts.js';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { CalendarObjectTable, Database } from '../store/schema.js';
import { isPostgres } from '../store/transaction.js';
import { VersionConflict, type StoredObject } from './mailbox-store.js';
import type { MeetingType } from '../domain/migration.js';

function fromRow(r: Selectable<CalendarObjectTable>): StoredObject {
  return {
    id: Number(r.id),
    tenantId: r.tenant_id,
    mailboxUserId: r.mailbox_user_id,
    uid: r.uid,
    ics: r.ics,
    organizer: r.organizer,
    firstStart: r.first_start,
    lastEnd: r.last_end,
    attendeeCount: r.attendee_count,
    attendees: JSON.parse(r.attendees) as string[],
    onlineMeetingId: r.online_meeting_id,
    meetingType: r.meeting_type ?? null,
    summary: r.summary,
    version: r.version,
    floatingZone: r.floating_zone,
    unknownZones: JSON.parse(r.unknown_zones) as string[],
    zonesDerived: r.zones_derived === 1,
  };
}

/** The indexed columns that depend on time zones, derived from one index. */
function zoneFields(ix: ObjectIndex): { first_start: number | null; last_end: number | null; floating_zone: string | null; unknown_zones: string; zones_derived: number } {
  return { first_start: ix.firstStart, last_end: ix.lastEnd, floating_zone: ix.floatingZone, unknown_zones: JSON.stringify(ix.unknownZones), zones_derived: 1 };
}

/**
 * The built-in mailbox store: each object's iCalendar text kept exactly as received, with columns derived on
 * write (organizer, first start, last end of the whole series, attendee count, online meeting id, version).
 *
 * Floating times (no TZID, no Z) are derived in the organizer's time zone (RFC 5545 §3.3.5: floating means
 * "wherever the person is", and the meeting is the organizer's): the organizer's own zone when they are a user
 * of the tenant, else the zone of the mailbox's owner (an external organizer's invitation is read where the
 * invitee is), else the tenant's. When one of these zones changes, rederiveFloating runs in the same
 * transaction, so first start and last end are always true for every reader (lists, sorting, the "past" cut),
 * not only for the migration that happens to look.
 */
export class BuiltinMailboxStore {
  // Zones by (organizer, mailbox), for one use case: an import reads the same few organizers many times.
  private readonly zones = new Map<string, string>();

  /** `k` may be the database or a transaction, so that a use case can write several mailboxes at once. */
  constructor(private readonly k: Kysely<Database>, private readonly tenantId: string, private readonly now: () => number) {}

  /** The IANA zone floating times of an object are read in (see the class comment). */
  async zoneFor(organizer: string | null, mailboxUserId: string): Promise<string> {
    const key = `${organizer ?? ''}\u0000${mailboxUserId}`;
    const hit = this.zones.get(key);
    if (hit) return hit;
    const tenant = await this.k.selectFrom('tenants').select('time_zone').where('id', '=', this.tenantId).executeTakeFirst();
    const address = organizer?.toLowerCase();
    const byOrganizer = address
      ? await this.k.selectFrom('users').select('time_zone').where('tenant_id', '=', this.tenantId)
        .where((eb) => eb.or([eb('upn', '=', address), eb('sip_address', '=', `sip:${address}`)])).executeTakeFirst()
      : undefined;
    const owner = byOrganizer ?? await this.k.selectFrom('users').select('time_zone').where('id', '=', mailboxUserId).executeTakeFirst();
    const zone = owner?.time_zone ?? tenant?.time_zone ?? 'UTC';
    this.zones.set(key, zone);
    return zone;
  }

  /** Indexes an object with its floating times in the organizer's zone (a floating-free object needs no lookup). */
  private async index(mailboxUserId: string, ics: string): Promise<ObjectIndex> {
    const ix = indexObject(ics);
    if (ix.floatingZone === null) return ix;
    const zone = await this.zoneFor(ix.organizer, mailboxUserId);
    return zone === ix.floatingZone ? ix : indexObject(ics, { timeZone: zone });
  }

  /**
   * Derives again first start and last end of the tenant's objects with floating times — those organized by
   * one of `addresses` or stored in `mailboxUserId`'s mailbox, or all of them — after a time zone changed.
   * The text and version stay: the object did not change, only what its floating times mean. Returns how many
   * objects got new times.
   */
  async rederiveFloating(scope: { addresses: readonly string[]; mailboxUserId: string } | 'tenant'): Promise<number> {
    this.zones.clear();
    let q = this.k.selectFrom('calendar_objects').select(['id', 'mailbox_user_id', 'organizer', 'ics', 'floating_zone'])
      .where('tenant_id', '=', this.tenantId).where('floating_zone', 'is not', null);
    if (scope !== 'tenant') {
      const addresses = scope.addresses.map((a) => a.toLowerCase());
      q = q.where((eb) => eb.or([eb('organizer', 'in', addresses), eb('mailbox_user_id', '=', scope.mailboxUserId)]));
    }
    let changed = 0;
    for (const row of await q.execute()) {
      const zone = await this.zoneFor(row.organizer, row.mailbox_user_id);
      if (zone === row.floating_zone) continue;
      let ix: ObjectIndex;
      try {
        ix = indexObject(row.ics, { timeZone: zone });
      } catch {
        continue; // it indexed when it was stored; if it no longer does, the columns it has are the best we know
      }
      await this.k.updateTable('calendar_objects').set(zoneFields(ix)).where('id', '=', row.id).execute();
      changed++;
    }
    return changed;
  }

  async put(mailboxUserId: string, ics: string, opts: { ifVersion?: number | null } = {}): Promise<StoredObject> {
    const ix = await this.index(mailboxUserId, ics);
    const f = factsOf(ix, ics);
    const fields = {
      ics,
      organizer: f.organizer,
      ...zoneFields(ix),
      attendee_count: f.attendeeCount,
      attendees: JSON.stringify(f.attendees),
      online_meeting_id: f.onlineMeetingId,
      meeting_type: f.meetingType,
      summary: f.summary,
      modified_at: this.now(),
    };
    const k = this.k;
    if (opts.ifVersion === undefined || opts.ifVersion === null) {
      const existing = await this.get(mailboxUserId, ix.uid);
      if (existing) {
        if (opts.ifVersion === null) throw new VersionConflict(ix.uid);
        return this.put(mailboxUserId, ics, { ifVersion: existing.version });
      }
      const position = await k.selectFrom('calendar_objects')
        .select(sql<number>`coalesce(max(position), -1) + 1`.as('next'))
        .where('mailbox_user_id', '=', mailboxUserId)
        .executeTakeFirst();
      const row = await k.insertInto('calendar_objects').values({
        ...fields,
        tenant_id: this.tenantId,
        mailbox_user_id: mailboxUserId,
        uid: ix.uid,
        position: Number(position?.next ?? 0),
        version: 1,
        created_at: fields.modified_at,
      }).returningAll().executeTakeFirstOrThrow();
      return fromRow(row);
    }
    const row = await k.updateTable('calendar_objects')
      .set({ ...fields, version: opts.ifVersion + 1 })
      .where('mailbox_user_id', '=', mailboxUserId)
      .where('uid', '=', ix.uid)
      .where('version', '=', opts.ifVersion)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new VersionConflict(ix.uid);
    return fromRow(row);
  }

  async get(mailboxUserId: string, uid: string): Promise<StoredObject | undefined> {
    const r = await this.k.selectFrom('calendar_objects').selectAll()
      .where('mailbox_user_id', '=', mailboxUserId).where('uid', '=', uid).executeTakeFirst();
    return r && fromRow(r);
  }

  async list(mailboxUserId: string): Promise<StoredObject[]> {
    const rows = await this.k.selectFrom('calendar_objects').selectAll()
      .where('mailbox_user_id', '=', mailboxUserId).orderBy('position').orderBy('id').execute();
    return rows.map((r) => fromRow(r));
  }

  async listOrganized(mailboxUserId: string, organizers: readonly string[], endsAfter: number): Promise<StoredObject[]> {
    const rows = await this.k.selectFrom('calendar_objects').selectAll()
      .where('mailbox_user_id', '=', mailboxUserId)
      .where('organizer', 'in', organizers.map((o) => o.toLowerCase()))
      .where((eb) => eb.or([eb('last_end', 'is', null), eb('last_end', '>', endsAfter)]))
      .orderBy('first_start').orderBy('id').execute();
    return rows.map((r) => fromRow(r));
  }

  /**
   * Writes a rewritten object whose indexed facts are unchanged (only its block changed), conditional on the
   * version read. Undo uses it: the block it puts back may be of the other meeting type (a conversion undone), so
   * the type is read from the text again (issue 12).
   */
  async replaceText(mailboxUserId: string, uid: string, ics: string, ifVersion: number): Promise<number> {
    const meetingType = meetingTypeOfText(ics);
    const r = await this.k.updateTable('calendar_objects')
      .set({ ics, version: ifVersion + 1, modified_at: this.now(), ...(meetingType === undefined ? {} : { meeting_type: meetingType }) })
      .where('mailbox_user_id', '=', mailboxUserId).where('uid', '=', uid).where('version', '=', ifVersion)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new VersionConflict(uid);
    return ifVersion + 1;
  }

  /** Several objects at once, by (mailbox, UID); missing ones are absent from the result. */
  async getMany(keys: ReadonlyArray<{ mailboxUserId: string; uid: string }>): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      // Exact (mailbox, UID) pairs: two IN lists would probe every mailbox for every UID.
      const rows = await this.k.selectFrom('calendar_objects').selectAll()
        .where((eb) => eb.or(chunk.map((c) => eb.and([eb('mailbox_user_id', '=', c.mailboxUserId), eb('uid', '=', c.uid)]))))
        .execute();
      for (const r of rows) out.push(fromRow(r));
    }
    return out;
  }

  /**
   * Conditional block-only rewrites of many objects in one statement per chunk: each row is written only if its
   * version is still the one read. A row that gives `meetingType` (a conversion, or its undo) gets that type too;
   * the others keep theirs. Returns the ids written; the others changed meanwhile.
   */
  async replaceMany(rows: ReadonlyArray<{ id: number; ifVersion: number; ics: string; meetingType?: MeetingType | null }>): Promise<Set<number>> {
    const written = new Set<number>();
    // PostgreSQL: the new texts and the versions they need as a VALUES list joined by id (an index scan on the primary
    // key per row, by EXPLAIN). Two CASEs of a branch per row cost it planning and evaluation that grew with the chunk:
    // the update of a 100-meeting run 55 -> 45 ms. SQLite keeps the CASEs: its UPDATE … FROM such a list measured
    // slower (16.6 -> 29 ms), and it plans a CASE cheaply.
    if (isPostgres(this.k)) {
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        const typed = chunk.some((r) => r.meetingType !== undefined);
        const values = sql.join(chunk.map((r) => (typed
          ? sql`(cast(${r.id} as bigint), cast(${r.ifVersion} as integer), cast(${r.ics} as text), cast(${r.meetingType !== undefined} as boolean), cast(${r.meetingType ?? null} as text))`
          : sql`(cast(${r.id} as bigint), cast(${r.ifVersion} as integer), cast(${r.ics} as text))`)));
        const result = await sql<{ id: number }>`
          update calendar_objects as c
          set ics = v.ics, version = c.version + 1, modified_at = ${this.now()}${typed ? sql`, meeting_type = case when v.typed then v.meeting_type else c.meeting_type end` : sql``}
          from (values ${values}) as v(id, if_version, ics${typed ? sql`, typed, meeting_type` : sql``})
          where c.id = v.id and c.version = v.if_version
          returning c.id`.execute(this.k);
        for (const r of result.rows) written.add(Number(r.id));
      }
      return written;
    }
    for (let i = 0; i < rows.length; i += 200) {
      const chunk = rows.slice(i, i + 200);
      const icsCase = sql.join(chunk.map((r) => sql`when ${r.id} then ${r.ics}`), sql` `);
      const versionCase = sql.join(chunk.map((r) => sql`when ${r.id} then cast(${r.ifVersion} as integer)`), sql` `);
      const typed = chunk.filter((r) => r.meetingType !== undefined);
      const typeCase = typed.length
        ? sql`, meeting_type = case id ${sql.join(typed.map((r) => sql`when ${r.id} then cast(${r.meetingType ?? null} as text)`), sql` `)} else meeting_type end`
        : sql``;
      const result = await sql<{ id: number }>`
        update calendar_objects
        set ics = case id ${icsCase} end, version = version + 1, modified_at = ${this.now()}${typeCase}
        where id in (${sql.join(chunk.map((r) => r.id))}) and version = case id ${versionCase} end
        returning id`.execute(this.k);
      for (const r of result.rows) written.add(Number(r.id));
    }
    return written;
  }

  async remove(mailboxUserId: string, uid: string): Promise<boolean> {
    const r = await this.k.deleteFrom('calendar_objects')
      .where('mailbox_user_id', '=', mailboxUserId).where('uid', '=', uid).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
