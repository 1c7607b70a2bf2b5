// A tenant ready for migration-engine tests: the directory fixture's tenant and bridges, an organizer (amy) on the
// built-in audio conferencing, internal attendees (ben, dan; fay's mailbox is on-premises) and external ones, and
// helpers that schedule meetings the way the Outlook add-in does (scheduleMeeting, or buildEvent with the same
// block for what the add-in cannot make: series exceptions, text after the block, shared notes, copied blocks).
// Everything runs on the fixed clock of the directory fixture; migrations run through Start-CsExMeetingMigration
// and one worker, as in production.
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { TestDatabase } from './databases.js';
import { ACTOR, directoryFixture, type DirectoryFixture, type UserSpec } from './directory-fixture.js';
import { buildEvent, editEvents } from '../../src/ical/index.js';
import { setDialInUser } from '../../src/directory/index.js';
import { insertHtmlBlock, insertTextBlock, renderBlock } from '../../src/domain/meeting-block/index.js';
import { FINGERPRINT_PROPERTY, MEETING_ID_PROPERTY } from '../../src/domain/online-meeting.js';
import { blockInputFor, importCalendar, scheduleMeeting, type ScheduleInput, type Scheduled } from '../../src/meetings/index.js';
import { BuiltinMailboxStore, type StoredObject } from '../../src/mailbox/index.js';
import { MigrationWorker, startMigration, transactionHistory } from '../../src/migration/index.js';
import { getTenant, listBridges, findUser } from '../../src/store/directory-repo.js';
import { listRequests, type MigrationRequest } from '../../src/store/requests-repo.js';
import type { Tenant, User } from '../../src/domain/directory.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** 2025-03-`day` at `hour`:00 UTC; the fixture's clock stands at 2025-03-03 09:01 UTC (a Monday). */
export const march = (day: number, hour = 10): number => Date.UTC(2025, 2, day, hour, 0, 0);

export const EXTERNAL = { xena: 'xena@fabrikam.com', yuri: 'yuri@example.org' } as const;
export const SERVICE_ADDRESS = 'mms@contoso.com';
/** The conference ID the organizer gets when her block goes stale (see `retarget`). */
export const NEW_CONFERENCE_ID = '4242424';

/** amy organizes; ben and dan attend from online mailboxes; fay is internal but her mailbox is on-premises; cara is homed on-premises. */
export const MIGRATION_CAST: readonly UserSpec[] = [
  { name: 'amy', licensed: true },
  { name: 'ben', licensed: true },
  { name: 'dan' },
  { name: 'fay', licensed: true, mailboxLocation: 'OnPremises' },
  { name: 'cara', hostedOn: 'OnPremises' }, // homed on-premises (mailbox online): Move-CsUser changes her join links
];

/** Options of an add-in meeting built by hand (imported instead of scheduled). */
export interface AddInEvent {
  readonly uid: string;
  readonly subject: string;
  readonly start: number;
  readonly end?: number;
  readonly organizer?: string;
  /** Local parts of internal users or full external addresses. */
  readonly attendees?: readonly string[];
  /** User text before the block (the add-in puts the block after the body). */
  readonly before?: string;
  /** User text after the block, as if typed below it. */
  readonly after?: string;
  readonly sharedNotesUrl?: string;
  readonly rrule?: string;
  readonly meetingId?: string;
  /** false: the block is pasted without the metadata that ties it to an online meeting. */
  readonly metadata?: boolean;
}

export interface HistoryRow {
  readonly Uid: string;
  readonly Subject: string;
  readonly Action: string;
  readonly Reason: string;
  readonly AttendeesNotified: number;
}

export interface NotificationRow {
  readonly uid: string;
  readonly recipient: string;
  readonly internal: boolean;
  readonly state: string;
  readonly messageId: number | null;
  readonly from: string | null;
  readonly sender: string | null;
  readonly ics: string | null;
}

export interface MigrationFixture extends DirectoryFixture {
  /** The database URL, for running `mms` commands against the same database. */
  readonly url: string;
  readonly store: BuiltinMailboxStore;
  /** `name@contoso.com` for a cast member, the address itself for an external one. */
  address(name: string): string;
  user(name: string): Promise<User>;
  currentTenant(): Promise<Tenant>;
  /** New-MmsMeeting as the add-in does it; organizer amy, one hour, attendees ben, xena and yuri unless given. */
  schedule(input: Partial<ScheduleInput> & { subject: string; start: number }): Promise<Scheduled>;
  /** An add-in meeting's text built with the organizer's current block (see AddInEvent). */
  addInIcs(e: AddInEvent): Promise<string>;
  /** Import-MmsCalendar of the same text into each named mailbox. */
  importInto(names: readonly string[], ics: string): Promise<void>;
  /** The object with this UID in a user's mailbox (fails the test when it is missing). */
  get(name: string, uid: string): Promise<StoredObject>;
  /** Replaces an object in a user's mailbox through the store, as a calendar client would (conditional). */
  edit(name: string, uid: string, change: (ics: string) => string): Promise<StoredObject>;
  /** Makes the organizer's blocks stale: moves her to the EU bridge with conference ID NEW_CONFERENCE_ID. */
  retarget(name?: string): Promise<void>;
  /** Start-CsExMeetingMigration for one user, then one worker runs that request to its end. */
  migrate(name?: string): Promise<MigrationRequest>;
  /** Get-CsMeetingMigrationTransactionHistory rows of one migration. */
  history(correlationId: string, name?: string): Promise<HistoryRow[]>;
  /** The outbox rows of one migration with their iMIP message (null for internal copies). */
  notifications(correlationId: string): Promise<NotificationRow[]>;
  /** Every row of the tables a migration writes, for "nothing changed" comparisons. */
  snapshot(): Promise<Record<string, unknown[]>>;
  /** The text of every stored iMIP message of the tenant, oldest first (for the independent validators). */
  messages(): Promise<string[]>;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function migrationFixture(t: TestDatabase): Promise<MigrationFixture> {
  let url = '';
  const spy: TestDatabase = { ...t, fresh: async () => { const f = await t.fresh(); url = f.url; return f; } };
  const fx = await directoryFixture(spy, { users: MIGRATION_CAST });
  const { db, clock } = fx;
  const now = () => clock.now;
  const store = new BuiltinMailboxStore(db.kysely, fx.tenant.id, now);
  const address = (name: string) => (name.includes('@') ? name : fx.upn(name));
  const user = async (name: string): Promise<User> => {
    const u = await findUser(db.kysely, fx.tenant.id, address(name));
    assert.ok(u, `fixture: no user ${name}`);
    return u;
  };
  const currentTenant = async () => (await getTenant(db.kysely, fx.tenant.id)) as Tenant;
  const get = async (name: string, uid: string) => {
    const o = await store.get((await user(name)).id, uid);
    assert.ok(o, `fixture: ${uid} is not in ${name}'s mailbox`);
    return o;
  };

  return {
    ...fx,
    url,
    store,
    address,
    user,
    currentTenant,
    get,
    schedule(input) {
      return scheduleMeeting(db, fx.tenant.id, {
        organizer: fx.upn('amy'),
        end: input.start + HOUR,
        attendees: [fx.upn('ben'), EXTERNAL.xena, EXTERNAL.yuri],
        ...input,
      }, now);
    },
    async addInIcs(e) {
      const organizer = await user(e.organizer ?? 'amy');
      const tenant = await currentTenant();
      const meetingId = e.meetingId ?? `M${e.uid.replace(/[^A-Z0-9]/gi, '').slice(0, 7).toUpperCase()}`;
      const input = blockInputFor(organizer, tenant, await listBridges(db.kysely, tenant.id), meetingId, e.sharedNotesUrl ?? null);
      const block = renderBlock(input);
      const attendees = await Promise.all((e.attendees ?? ['ben', EXTERNAL.xena]).map(async (a) => {
        const u = a.includes('@') ? undefined : await user(a);
        return { address: address(a), name: u?.displayName };
      }));
      const para = (text: string) => `<div>${text.replace(/\n/g, '<br>')}</div>`;
      const html = insertHtmlBlock(`<html><body>${para(e.before ?? '')}</body></html>`, block.html)
        .replace('</body>', () => (e.after ? `${para(e.after)}</body>` : '</body>')); // a function: `$` in test text stays as written
      const metadata = e.metadata ?? true;
      return buildEvent({
        uid: e.uid,
        summary: e.subject,
        start: e.start,
        end: e.end ?? e.start + HOUR,
        rrule: e.rrule,
        organizer: { address: organizer.upn, name: organizer.displayName },
        attendees,
        description: insertTextBlock(e.before ?? '', block.text) + (e.after ?? ''),
        htmlDescription: metadata ? html : undefined,
        location: metadata ? input.joinUrl : 'Room 4.1',
        conferences: metadata ? block.conferences : undefined,
        xProps: metadata
          ? { [MEETING_ID_PROPERTY]: meetingId, [FINGERPRINT_PROPERTY]: block.fingerprint, 'X-MICROSOFT-SKYPETEAMSMEETINGURL': input.joinUrl }
          : undefined,
        dtstamp: now(),
      });
    },
    async importInto(names, ics) {
      for (const name of names) {
        const r = await importCalendar(db, fx.tenant.id, address(name), Buffer.from(ics, 'utf8'), now);
        assert.deepEqual(r.problems, [], `fixture: importing into ${name}`);
      }
    },
    async edit(name, uid, change) {
      const o = await get(name, uid);
      return store.put(o.mailboxUserId, change(o.ics), { ifVersion: o.version });
    },
    async retarget(name = 'amy') {
      await setDialInUser(fx.ctx, fx.tenant.id, address(name), { bridgeName: 'Contoso EU', conferenceId: NEW_CONFERENCE_ID });
    },
    async migrate(name = 'amy') {
      const [r] = await startMigration(db, await currentTenant(), [address(name)], { actor: ACTOR, now });
      assert.ok(r && r.status === 'Queued', `fixture: Start-CsExMeetingMigration ${name}: ${JSON.stringify(r)}`);
      const worker = new MigrationWorker({ db, now, logger: silent, workerId: 'test-worker', serviceAddress: SERVICE_ADDRESS });
      assert.equal(await worker.runOnce([r.correlationId]), true, 'fixture: the worker found nothing to run');
      const request = (await listRequests(db.kysely, fx.tenant.id)).find((x) => x.correlationId === r.correlationId);
      assert.ok(request);
      return request;
    },
    async history(correlationId, name = 'amy') {
      return transactionHistory(db, await currentTenant(), { identity: address(name), correlationId });
    },
    async notifications(correlationId) {
      const rows = await db.kysely.selectFrom('outbox as o').leftJoin('outbox_messages as m', 'm.id', 'o.message_id')
        .select(['o.uid', 'o.recipient', 'o.internal', 'o.state', 'o.message_id', 'm.from_address', 'm.sender_address', 'm.ics'])
        .where('o.correlation_id', '=', correlationId).orderBy('o.id').execute();
      return rows.map((r) => ({
        uid: r.uid, recipient: r.recipient, internal: r.internal === 1, state: r.state,
        messageId: r.message_id === null ? null : Number(r.message_id), from: r.from_address, sender: r.sender_address, ics: r.ics,
      }));
    },
    async snapshot() {
      const k = db.kysely;
      return {
        calendar_objects: await k.selectFrom('calendar_objects').selectAll().orderBy('id').execute(),
        migration_meetings: await k.selectFrom('migration_meetings').selectAll().orderBy('id').execute(),
        outbox: await k.selectFrom('outbox').selectAll().orderBy('id').execute(),
        outbox_messages: await k.selectFrom('outbox_messages').selectAll().orderBy('id').execute(),
        migration_requests: await k.selectFrom('migration_requests').selectAll().orderBy('id').execute(),
        audit_log: await k.selectFrom('audit_log').selectAll().orderBy('id').execute(),
      };
    },
    async messages() {
      const rows = await db.kysely.selectFrom('outbox_messages').select('ics').where('tenant_id', '=', fx.tenant.id).orderBy('id').execute();
      return rows.map((r) => r.ics);
    },
  };
}

/** Runs `fn` with a fresh fixture and always drops it. */
export async function withMigrationFixture(t: TestDatabase, fn: (fx: MigrationFixture) => Promise<void>): Promise<void> {
  const fx = await migrationFixture(t);
  try {
    await fn(fx);
  } finally {
    await fx.drop();
  }
}

/**
 * Makes every write to one calendar object lose its race, as if someone kept editing it: a trigger skips each
 * UPDATE of that row, so a conditional write finds no row at its version. Triggers are dialect-specific SQL,
 * which only this test helper (not MMS) needs.
 */
export async function makeUnwritable(fx: MigrationFixture, mailboxUserId: string, uid: string): Promise<() => Promise<void>> {
  const k = fx.db.kysely;
  const lit = (s: string) => sql.lit(s);
  if (fx.db.dialect === 'postgres') {
    await sql`create function mms_test_skip_update() returns trigger language plpgsql as $$ begin return null; end $$`.execute(k);
    await sql`create trigger mms_test_stuck before update on calendar_objects for each row
      when (old.uid = ${lit(uid)} and old.mailbox_user_id = ${lit(mailboxUserId)}) execute function mms_test_skip_update()`.execute(k);
    return async () => {
      await sql`drop trigger mms_test_stuck on calendar_objects`.execute(k);
      await sql`drop function mms_test_skip_update()`.execute(k);
    };
  }
  await sql`create trigger mms_test_stuck before update on calendar_objects
    when old.uid = ${lit(uid)} and old.mailbox_user_id = ${lit(mailboxUserId)} begin select raise(ignore); end`.execute(k);
  return async () => {
    await sql`drop trigger mms_test_stuck`.execute(k);
  };
}

/** What one VEVENT of an object says, read through the ical boundary (decoded values, parameters as records). */
export interface EventView {
  readonly recurrenceId: string | null;
  get(name: string): string | null;
  all(name: string): Array<{ params: Record<string, string>; value: string }>;
}

/** The VEVENTs of an object, master and exceptions in order. */
export function eventsOf(ics: string): EventView[] {
  const out: EventView[] = [];
  editEvents(ics, (e) => {
    const props = new Map<string, Array<{ params: Record<string, string>; value: string }>>();
    const all = (name: string) => {
      const key = name.toUpperCase();
      if (!props.has(key)) props.set(key, e.getAll(key));
      return props.get(key) ?? [];
    };
    // Read eagerly: the editor is only valid inside the callback.
    for (const n of ['UID', 'SUMMARY', 'DESCRIPTION', 'X-ALT-DESC', 'LOCATION', 'CONFERENCE', 'ATTENDEE', 'ORGANIZER', 'STATUS', 'RRULE',
      'EXDATE', 'DTSTART', 'DTEND', 'SEQUENCE', 'DTSTAMP', 'LAST-MODIFIED', 'RECURRENCE-ID', 'TRANSP', 'CATEGORIES', FINGERPRINT_PROPERTY, MEETING_ID_PROPERTY, 'X-MICROSOFT-SKYPETEAMSMEETINGURL']) all(n);
    out.push({ recurrenceId: e.recurrenceId, get: (n) => all(n)[0]?.value ?? null, all });
  });
  return out;
}

/** The one VEVENT with this RECURRENCE-ID (null: the master). */
export function eventOf(ics: string, recurrenceId: string | null = null): EventView {
  const e = eventsOf(ics).find((x) => x.recurrenceId === recurrenceId);
  assert.ok(e, `no VEVENT with RECURRENCE-ID ${recurrenceId}`);
  return e;
}

/** Content lines of an object as raw text (folds and line breaks included), each with its property name. */
export function contentLines(ics: string): Array<{ name: string; raw: string }> {
  const lines: Array<{ name: string; raw: string }> = [];
  for (const physical of ics.split(/(?<=\r\n)/)) {
    const last = lines[lines.length - 1];
    if ((physical.startsWith(' ') || physical.startsWith('\t')) && last) last.raw += physical;
    else lines.push({ name: (/^[A-Za-z0-9-]+/.exec(physical)?.[0] ?? '').toUpperCase(), raw: physical });
  }
  return lines;
}

/** Properties that carry the block (what a migration may rewrite). */
export const BLOCK_PROPERTIES = new Set(['DESCRIPTION', 'X-ALT-DESC', 'CONFERENCE', 'LOCATION', FINGERPRINT_PROPERTY, 'X-MICROSOFT-SKYPETEAMSMEETINGURL']);

/**
 * When a component last changed: a migration renews both in each component it rewrites (RFC 5545
 * §3.8.7.2–3.8.7.3); `assertStamped` checks their values.
 */
export const STAMP_PROPERTIES = new Set(['DTSTAMP', 'LAST-MODIFIED']);

/** The raw lines of an object outside the block's properties and the change stamps, in order. */
export function linesOutsideBlock(ics: string): string[] {
  return contentLines(ics).filter((l) => !BLOCK_PROPERTIES.has(l.name) && !STAMP_PROPERTIES.has(l.name)).map((l) => l.raw);
}

/** `YYYYMMDDTHHMMSSZ` of an epoch-ms time, written out here rather than taken from src/. */
export const utcStamp = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';

/**
 * Asserts that each listed component (RECURRENCE-ID, null for the master; default every VEVENT) carries exactly
 * one DTSTAMP and one LAST-MODIFIED, both `at`.
 */
export function assertStamped(ics: string, at: number, recurrenceIds?: ReadonlyArray<string | null>): void {
  const want = utcStamp(at);
  const events = eventsOf(ics).filter((e) => !recurrenceIds || recurrenceIds.includes(e.recurrenceId));
  assert.equal(events.length, recurrenceIds?.length ?? events.length, 'assertStamped: a listed component is missing');
  for (const e of events) {
    assert.deepEqual(e.all('DTSTAMP').map((p) => p.value), [want], `DTSTAMP of ${e.recurrenceId ?? 'the master'}`);
    assert.deepEqual(e.all('LAST-MODIFIED').map((p) => p.value), [want], `LAST-MODIFIED of ${e.recurrenceId ?? 'the master'}`);
  }
}

export const U80 = '_'.repeat(80);

/**
 * The English block MMS writes for a meeting of the fixture's organizer after `retarget` (EU bridge, conference
 * ID NEW_CONFERENCE_ID), or without dial-in for a user without audio conferencing. Written out by hand so that
 * the tests do not check the renderer against itself.
 */
export function expectedBlock(joinUrl: string, opts: { dialIn?: boolean; sharedNotesUrl?: string } = {}): string {
  const lines = [U80, 'Join online meeting', joinUrl];
  if (opts.dialIn ?? true) {
    lines.push('', 'Join by phone', '+44 20 7555 0100 (London) Toll', '+44 800 555 0100 (United Kingdom) Toll-free',
      `Conference ID: ${NEW_CONFERENCE_ID}`, 'Find a local number: https://meet.contoso.com/dialin');
  }
  if (opts.sharedNotesUrl) lines.push('', `Shared meeting notes: ${opts.sharedNotesUrl}`);
  lines.push(U80);
  return lines.join('\n');
}

/** The block inside a description: from the first delimiter line to the last. */
export function blockIn(description: string | null): string {
  assert.ok(description !== null, 'no DESCRIPTION');
  const start = description.indexOf(U80);
  const end = description.lastIndexOf(U80);
  assert.ok(start >= 0 && end > start, `no block in ${JSON.stringify(description.slice(0, 120))}`);
  return description.slice(start, end + U80.length);
}

/** Sets one attendee's PARTSTAT in a copy (as a reply or the attendee's own answer would). */
export function withPartstat(ics: string, address: string, partstat: string): string {
  return editEvents(ics, (e) => {
    const all = e.getAll('ATTENDEE');
    if (!all.some((a) => a.value.toLowerCase() === `mailto:${address}`)) return;
    e.remove('ATTENDEE');
    for (const a of all) e.add('ATTENDEE', a.value, a.value.toLowerCase() === `mailto:${address}` ? { ...a.params, PARTSTAT: partstat } : a.params);
  });
}

/** Applies a change to every VEVENT's DESCRIPTION (decoded text). */
export function withDescription(ics: string, change: (description: string) => string): string {
  return editEvents(ics, (e) => {
    const d = e.get('DESCRIPTION');
    if (d !== null) e.set('DESCRIPTION', change(d));
  });
}
