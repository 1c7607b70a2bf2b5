import { indexObject } from '../ical/index.js';
import { onlineMeetingIdOf } from '../domain/online-meeting.js';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { CalendarObjectTable, Database } from '../store/schema.js';
import { VersionConflict, type MailboxStore, type StoredObject } from './mailbox-store.js';

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
    summary: r.summary,
    version: r.version,
  };
}

/**
 * The built-in mailbox store: each object's iCalendar text kept exactly as received, with columns derived on
 * write (organizer, first start, last end of the whole series, attendee count, online meeting id, version).
 */
export class BuiltinMailboxStore implements MailboxStore {
  /** `k` may be the database or a transaction, so that a use case can write several mailboxes at once. */
  constructor(private readonly k: Kysely<Database>, private readonly tenantId: string, private readonly now: () => number) {}

  async put(mailboxUserId: string, ics: string, opts: { ifVersion?: number | null } = {}): Promise<StoredObject> {
    const ix = indexObject(ics);
    const fields = {
      ics,
      organizer: ix.organizer,
      first_start: ix.firstStart,
      last_end: ix.lastEnd,
      // Everyone invited to any occurrence, and the organizer, as the documented attendee limit counts them.
      attendee_count: ix.everyAttendee.length + (ix.organizer && !ix.everyAttendee.includes(ix.organizer) ? 1 : 0),
      attendees: JSON.stringify(ix.everyAttendee.filter((a) => a !== ix.organizer)),
      online_meeting_id: onlineMeetingIdOf(ix.xProps),
      summary: ix.summary,
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
   * version read: the hot path of a migration, which skips indexing the object again.
   */
  async replaceText(mailboxUserId: string, uid: string, ics: string, ifVersion: number): Promise<number> {
    const r = await this.k.updateTable('calendar_objects')
      .set({ ics, version: ifVersion + 1, modified_at: this.now() })
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
   * version is still the one read. Returns the ids written; the others changed meanwhile.
   */
  async replaceMany(rows: ReadonlyArray<{ id: number; ifVersion: number; ics: string }>): Promise<Set<number>> {
    const written = new Set<number>();
    for (let i = 0; i < rows.length; i += 200) {
      const chunk = rows.slice(i, i + 200);
      const icsCase = sql.join(chunk.map((r) => sql`when ${r.id} then ${r.ics}`), sql` `);
      const versionCase = sql.join(chunk.map((r) => sql`when ${r.id} then cast(${r.ifVersion} as integer)`), sql` `);
      const result = await sql<{ id: number }>`
        update calendar_objects
        set ics = case id ${icsCase} end, version = version + 1, modified_at = ${this.now()}
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
