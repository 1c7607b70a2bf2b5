// A small organization with real meetings for the tests that run worker processes: one tenant, one online bridge,
// organizers licensed for audio conferencing, internal attendee users and external guests, and future meetings
// scheduled the way New-MmsMeeting does. Everything goes through the src/directory and src/meetings API on the wall
// clock (a worker process reads Date.now, so "future" must mean future to it), with MeetingMigrationEnabled off while
// provisioning so that setting up queues nothing.
import assert from 'node:assert/strict';
import ICAL from 'ical.js';
import { DELIMITER } from '../../src/domain/meeting-block/index.js';
import type { Kysely } from 'kysely';
import type { Database, Db } from '../../src/store/index.js';
import type { Bridge, Tenant } from '../../src/domain/directory.js';
import { changeTenant, newBridge, newTenant, newUser, setLicense, type DirectoryContext } from '../../src/directory/index.js';
import { scheduleMeeting } from '../../src/meetings/index.js';
import { findUser, getTenant, listBridges } from '../../src/store/directory-repo.js';
import { BuiltinMailboxStore } from '../../src/mailbox/index.js';
import { personalFor, personalize, type PersonalCopy } from './personal-copy.js';
import { listRequests } from '../../src/store/requests-repo.js';

/** The bridge's service numbers: the first toll and toll-free numbers are its defaults. */
export const WORLD_NUMBERS = {
  toll: '+14255550100',
  secondToll: '+14255550101',
  tollFree: '+18665550100',
} as const;

export interface WorldOptions {
  readonly organizers: number;
  readonly meetingsPerOrganizer: number;
  /** Internal attendees per meeting (users of the tenant with their own copy). */
  readonly internalPerMeeting: number;
  /** External attendees per meeting (guests reached by iMIP). */
  readonly externalPerMeeting: number;
  /**
   * Where internal attendees come from: a pool of that many attendee-only users, or `'organizers'` (colleagues
   * invite each other, so a mailbox holds its own meetings and copies of others').
   */
  readonly internalPool: number | 'organizers';
  readonly externalPool?: number;
  readonly domain?: string;
  /** The tenant's name (Contoso by default): several worlds in one database need names of their own. */
  readonly name?: string;
  /**
   * Each internal attendee answers in their own copy (PARTSTAT), sets a reminder (VALARM) and a category, as a
   * mail client would: the copies then differ from the organizer's, so a migration takes the copy-rewrite path
   * that must keep all three. Off: copies stay byte-identical to the organizer's (and at version 1).
   */
  readonly personalCopies?: boolean;
}

export interface WorldMeeting {
  readonly uid: string;
  readonly meetingId: string;
  readonly organizer: string;
  readonly internal: readonly string[];
  readonly external: readonly string[];
  /** Internal attendee -> what their copy holds of their own (empty without `personalCopies`). */
  readonly personal: ReadonlyMap<string, PersonalCopy>;
}

export { personalOf, type PersonalCopy } from './personal-copy.js';

export interface StoredCopy {
  readonly ics: string;
  readonly version: number;
}

export interface World {
  readonly db: Db;
  readonly ctx: DirectoryContext;
  readonly tenant: Tenant;
  readonly bridge: Bridge;
  readonly domain: string;
  readonly organizers: readonly string[];
  readonly meetings: readonly WorldMeeting[];
  userId(upn: string): Promise<string>;
  /** A mailbox's copy of a meeting (the organizer's own, or an attendee's). */
  copy(mailboxUpn: string, uid: string): Promise<StoredCopy | undefined>;
  /** Every copy of every meeting in one query (through `k`, e.g. a transaction): `${mailboxUpn}\u0000${uid}` -> copy. */
  allCopies(k?: Kysely<Database>): Promise<Map<string, StoredCopy>>;
}

const DAY = 86_400_000;
/** Builds the organization in a fresh database; meetings start 1..n days from now at 15:00 UTC. */
export async function buildWorld(db: Db, opts: WorldOptions): Promise<World> {
  const domain = opts.domain ?? 'contoso.com';
  const ctx: DirectoryContext = { db, actor: 'admin@contoso.com', now: () => Date.now(), migrationDelayMs: 0 };
  let tenant = await newTenant(ctx, { name: opts.name ?? 'Contoso', domains: [domain] });
  await changeTenant(ctx, tenant.id, 'Set-CsTenantMigrationConfiguration', { settings: { meetingMigrationEnabled: false } });
  await newBridge(ctx, tenant.id, {
    name: 'Contoso US',
    tollNumbers: [`${WORLD_NUMBERS.toll} (Seattle) en-US`, `${WORLD_NUMBERS.secondToll} (Redmond) en-US`],
    tollFreeNumbers: [`${WORLD_NUMBERS.tollFree} (United States)`],
  });
  const upn = (name: string) => `${name}@${domain}`;
  const organizers = Array.from({ length: opts.organizers }, (_, i) => upn(`organizer${String(i + 1).padStart(2, '0')}`));
  for (const o of organizers) {
    await newUser(ctx, tenant.id, { userPrincipalName: o, displayName: o.split('@')[0] ?? o });
    await setLicense(ctx, tenant.id, o, { add: ['AudioConferencing'] });
  }
  const pool = opts.internalPool === 'organizers'
    ? organizers
    : Array.from({ length: opts.internalPool }, (_, i) => upn(`attendee${String(i + 1).padStart(2, '0')}`));
  if (opts.internalPool !== 'organizers') {
    for (const a of pool) await newUser(ctx, tenant.id, { userPrincipalName: a, displayName: a.split('@')[0] ?? a });
  }
  const guests = Array.from({ length: opts.externalPool ?? Math.max(opts.externalPerMeeting * 2, 1) }, (_, i) => `guest${i + 1}@fabrikam.example`);

  const meetings: WorldMeeting[] = [];
  const start0 = Math.floor(Date.now() / DAY) * DAY + 15 * 3_600_000;
  for (const [o, organizer] of organizers.entries()) {
    const colleagues = pool.filter((p) => p !== organizer);
    for (let m = 0; m < opts.meetingsPerOrganizer; m++) {
      const internal = Array.from({ length: opts.internalPerMeeting }, (_, k) => colleagues[(o + m + k) % colleagues.length] as string);
      const external = Array.from({ length: opts.externalPerMeeting }, (_, k) => guests[(m + k) % guests.length] as string);
      const start = start0 + (m + 1) * DAY + o * 60_000;
      const s = await scheduleMeeting(db, tenant.id, {
        organizer,
        subject: `Planning ${o + 1}.${m + 1}`,
        start,
        end: start + 30 * 60_000,
        attendees: [...internal, ...external],
        body: `Agenda for meeting ${m + 1} of ${organizer}.\nBring the numbers.`,
      }, ctx.now);
      const personal = new Map<string, PersonalCopy>();
      if (opts.personalCopies) {
        const store = new BuiltinMailboxStore(db.kysely, tenant.id, ctx.now);
        for (const [k, a] of internal.entries()) {
          const u = await findUser(db.kysely, tenant.id, a);
          const copy = u && await store.get(u.id, s.uid);
          if (!u || !copy) throw new Error(`world: ${a} has no copy of ${s.uid}`);
          const mine = personalFor(a, m + k);
          await store.replaceText(u.id, s.uid, personalize(copy.ics, a, mine), copy.version);
          personal.set(a, mine);
        }
      }
      meetings.push({ uid: s.uid, meetingId: s.meetingId, organizer, internal, external, personal });
    }
  }

  tenant = await changeTenant(ctx, tenant.id, 'Set-CsTenantMigrationConfiguration', { settings: { meetingMigrationEnabled: true } });
  const leftovers = await listRequests(db.kysely, tenant.id);
  if (leftovers.length) throw new Error(`world: provisioning queued ${leftovers.length} request(s); it must queue none`);
  const bridge = (await listBridges(db.kysely, tenant.id)).find((b) => b.name === 'Contoso US');
  if (!bridge) throw new Error('world: the bridge is missing');

  const ids = new Map<string, string>();
  const userId = async (who: string): Promise<string> => {
    const hit = ids.get(who);
    if (hit) return hit;
    const u = await findUser(db.kysely, tenant.id, who);
    if (!u) throw new Error(`world: no user ${who}`);
    ids.set(who, u.id);
    return u.id;
  };
  return {
    db,
    ctx,
    tenant,
    bridge,
    domain,
    organizers,
    meetings,
    userId,
    async copy(mailboxUpn, uid) {
      const row = await db.kysely.selectFrom('calendar_objects').select(['ics', 'version'])
        .where('mailbox_user_id', '=', await userId(mailboxUpn)).where('uid', '=', uid).executeTakeFirst();
      return row && { ics: row.ics, version: Number(row.version) };
    },
    async allCopies(k = db.kysely) {
      const rows = await k.selectFrom('calendar_objects').innerJoin('users', 'users.id', 'calendar_objects.mailbox_user_id')
        .select(['users.upn', 'calendar_objects.uid', 'calendar_objects.ics', 'calendar_objects.version'])
        .where('calendar_objects.tenant_id', '=', tenant.id).execute();
      return new Map(rows.map((r) => [`${r.upn}\u0000${r.uid}`, { ics: r.ics, version: Number(r.version) }]));
    },
  };
}

/** The directory as it is now (after the test's changes): the tenant and its bridges, for rendering blocks. */
export async function currentDirectory(world: World): Promise<{ tenant: Tenant; bridges: Bridge[] }> {
  const tenant = await getTenant(world.db.kysely, world.tenant.id);
  if (!tenant) throw new Error('world: the tenant is gone');
  return { tenant, bridges: await listBridges(world.db.kysely, tenant.id) };
}

/**
 * The DESCRIPTION of a calendar object's VEVENT, read with ical.js (an independent parser: the oracle should not
 * be the code under test).
 */
export function descriptionOf(ics: string): string {
  const comp = ICAL.Component.fromString(ics);
  const ev = comp.getFirstSubcomponent('vevent');
  const d = ev?.getFirstPropertyValue('description');
  if (typeof d !== 'string') throw new Error(`no DESCRIPTION in ${ics.slice(0, 200)}`);
  return d;
}

/** The object's text with content lines unfolded (RFC 5545 §3.1), so that searched values are never split. */
export function unfold(ics: string): string {
  return ics.replace(/\r?\n[ \t]/g, '');
}

/** How many times `needle` occurs in `haystack` (non-overlapping). */
export function occurrences(haystack: string, needle: string): number {
  if (!needle) throw new Error('occurrences: empty needle');
  return haystack.split(needle).length - 1;
}

/** How many times a run of digits occurs as a whole number (not inside a longer run of digits). */
export function digitRuns(haystack: string, digits: string): number {
  return [...haystack.matchAll(new RegExp(`(?<!\\d)${digits}(?!\\d)`, 'g'))].length;
}

/**
 * The crash tests' per-copy check after a round: the new block exactly once in the DESCRIPTION (one delimiter
 * pair), the new conference ID once in it, and no earlier conference ID anywhere in the object.
 */
export function assertNewBlockOnce(ics: string, description: string, block: string, newId: string, pastIds: readonly string[], at: string): void {
  assert.equal(occurrences(description, block), 1, `${at}: the new block is there ${occurrences(description, block)} times:\n${description}`);
  assert.equal(occurrences(description, DELIMITER), 2, `${at}: one delimiter pair expected:\n${description}`);
  assert.equal(digitRuns(description, newId), 1, `${at}: conference ID ${newId} appears ${digitRuns(description, newId)} times in DESCRIPTION`);
  const whole = unfold(ics);
  for (const old of pastIds) assert.equal(digitRuns(whole, old), 0, `${at}: the old conference ID ${old} is still there`);
}
