import type { MeetingType } from '../domain/migration.js';
import type { Db } from '../store/index.js';
import { writeTransaction, type Tx } from '../store/transaction.js';
import { BuiltinMailboxStore } from './builtin-store.js';
import {
  copyKey, VersionConflict, type CopyKey, type CreateOutcome, type MeetingObject, type StoredObject, type UserMailbox, type WriteIntent, type WriteOutcome, type WriteUnit,
} from './mailbox-store.js';

/** A built-in row as the engine sees it: the row id is the reference, the version counter the etag. */
export function meetingOf(o: StoredObject): MeetingObject {
  const { id, version, tenantId: _t, mailboxUserId: _m, ...facts } = o;
  return { ...facts, ref: String(id), etag: String(version) };
}

/** The version a built-in etag stands for. */
export const versionOf = (etag: string): number => Number(etag);

/**
 * The unit of one batch in the built-in store: every write and the engine's records share one transaction, so
 * a worker killed at any instant leaves each meeting either untouched or changed and recorded.
 */
class BuiltinUnit implements WriteUnit {
  private readonly store: BuiltinMailboxStore;

  constructor(private readonly tx: Tx, tenantId: string, now: () => number) {
    this.store = new BuiltinMailboxStore(tx, tenantId, now);
  }

  async replace(writes: ReadonlyArray<{ o: MeetingObject; ics: string; meetingType?: MeetingType | null }>): Promise<Map<string, WriteOutcome>> {
    const written = await this.store.replaceMany(writes.map(({ o, ics, meetingType }) => ({ id: Number(o.ref), ifVersion: versionOf(o.etag), ics, meetingType })));
    return new Map(writes.map(({ o }) => [o.ref, written.has(Number(o.ref)) ? 'Written' : 'Conflict'] as const));
  }

  async readCopies(keys: readonly CopyKey[]): Promise<Map<string, MeetingObject>> {
    // Always fresh: the rows are read inside the batch's transaction.
    const rows = await this.store.getMany(keys.map((k) => ({ mailboxUserId: k.userId, uid: k.uid })));
    return new Map(rows.map((r) => [copyKey(r.mailboxUserId, r.uid), meetingOf(r)]));
  }

  async replaceCopies(writes: ReadonlyArray<{ userId: string; copy: MeetingObject; ics: string; meetingType?: MeetingType | null }>): Promise<Set<string>> {
    const written = await this.store.replaceMany(writes.map((w) => ({ id: Number(w.copy.ref), ifVersion: versionOf(w.copy.etag), ics: w.ics, meetingType: w.meetingType })));
    return new Set(writes.filter((w) => written.has(Number(w.copy.ref))).map((w) => copyKey(w.userId, w.copy.uid)));
  }

  async createCopy(userId: string, _uid: string, ics: string): Promise<CreateOutcome> {
    try {
      await this.store.put(userId, ics, { ifVersion: null });
      return 'Created';
    } catch (err) {
      if (err instanceof VersionConflict) return 'Exists';
      throw err;
    }
  }

  async record(fn: (tx: Tx) => Promise<void>): Promise<void> {
    await fn(this.tx);
  }

  versionAfter(o: MeetingObject): number {
    return versionOf(o.etag) + 1;
  }
}

/**
 * A user's mailbox in the built-in store. MMS schedules: internal attendees whose mailbox is built-in too get their
 * copies updated in the same transaction, everyone else is sent iMIP.
 */
export class BuiltinUserMailbox implements UserMailbox {
  readonly where = 'the built-in store';
  readonly scheduling = 'Mms' as const;

  constructor(private readonly db: Db, private readonly tenantId: string, private readonly userId: string, private readonly now: () => number) {}

  async copyHolders(userIds: readonly string[]): Promise<Set<string>> {
    if (!userIds.length) return new Set();
    const rows = await this.db.kysely.selectFrom('users').leftJoin('user_mailboxes', (j) => j.onRef('user_mailboxes.tenant_id', '=', 'users.tenant_id').onRef('user_mailboxes.user_id', '=', 'users.id')).where('users.tenant_id', '=', this.tenantId)
      .select('users.id').where('users.id', 'in', [...new Set(userIds)]).where('users.mailbox_location', '=', 'Online')
      .where('user_mailboxes.user_id', 'is', null).execute();
    return new Set(rows.map((r) => r.id));
  }

  async listOrganized(organizers: readonly string[], endsAfter: number): Promise<MeetingObject[]> {
    const rows = await new BuiltinMailboxStore(this.db.kysely, this.tenantId, this.now).listOrganized(this.userId, organizers, endsAfter);
    return rows.map(meetingOf);
  }

  async read(ref: string): Promise<MeetingObject | undefined> {
    const row = await this.db.kysely.selectFrom('calendar_objects').select('uid').where('id', '=', Number(ref)).where('mailbox_user_id', '=', this.userId).executeTakeFirst();
    if (!row) return undefined;
    const o = await new BuiltinMailboxStore(this.db.kysely, this.tenantId, this.now).get(this.userId, row.uid);
    return o && meetingOf(o);
  }

  async writeBatch<T>(_correlationId: string, _intents: () => readonly WriteIntent[], body: (unit: WriteUnit) => Promise<T>): Promise<T> {
    return writeTransaction(this.db, (tx) => body(new BuiltinUnit(tx, this.tenantId, this.now)));
  }

  async unfinished(): Promise<Array<{ intent: WriteIntent; o: MeetingObject }>> {
    // Nothing is ever left: the writes and their records share one transaction.
    return [];
  }
}
