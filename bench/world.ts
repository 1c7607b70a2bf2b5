// The bench organization, built fast and outside any timing: users through the directory API, a handful of
// meetings through New-MmsMeeting (the template, samples that prove the generator, and the per-user scenario's
// organizer), and every other meeting generated from the template and bulk-inserted in large transactions with the
// columns BuiltinMailboxStore.put would derive. Always built in SQLite; PostgreSQL schemas are copied from it.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { changeTenant, newBridge, newTenant, newUser, setDialInUser, setLicense, type DirectoryContext } from '../src/directory/index.js';
import type { User } from '../src/domain/directory.js';
import { onlineMeetingIdOf } from '../src/domain/online-meeting.js';
import { renderBlock } from '../src/domain/meeting-block/index.js';
import { indexObject } from '../src/ical/index.js';
import { blockInputFor, scheduleMeeting } from '../src/meetings/index.js';
import { getTenant, listBridges, listUsers } from '../src/store/directory-repo.js';
import { listRequests } from '../src/store/requests-repo.js';
import { openDatabase } from '../src/store/index.js';
import { benchMeetingId, MeetingTemplate, type MeetingFields } from './meeting-template.js';
import { log, seconds } from './report.js';
import { personalFor, personalize } from '../test/helpers/personal-copy.js';

export interface WorldSize {
  readonly organizers: number;
  readonly meetingsPerOrganizer: number;
  /** Internal attendee users; each meeting invites 4 of them. */
  readonly pool: number;
  /** Meetings of the per-user scenario's organizer. */
  readonly soloMeetings: number;
}

export interface World {
  /** The SQLite file (checkpointed, closed): copy it for each scenario. */
  readonly file: string;
  readonly size: WorldSize;
  readonly tenantName: string;
  /** The bridge all organizers are on, and the number the tenant-wide change unassigns from it. */
  readonly bridgeName: string;
  readonly numberToUnassign: string;
  /** The per-user scenario's organizer (on another bridge, so the tenant-wide change leaves them alone). */
  readonly soloUpn: string;
  /** Users with no meetings, used to check that worker processes are up. */
  readonly idleUpns: readonly string[];
  /** Meetings the tenant-wide change migrates. */
  readonly tenantWideMeetings: number;
  readonly calendarRows: number;
  readonly averageIcsBytes: number;
  readonly setupSeconds: Record<string, number>;
}

export const DOMAIN = 'bench.example';
const PARTNER = 'partner.example';
const DAY = 86_400_000;
const HOUR = 3_600_000;
const INTERNAL_PER_MEETING = 4;
const EXTERNAL_PER_MEETING = 4;
const BODY = 'Hi all,\n\nAgenda:\n- Status per workstream\n- Risks and next steps (café ☕ afterwards)\n\nThanks';

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const organizerLocal = (o: number): string => `org${pad(o, 5)}`;
const poolLocal = (p: number): string => `att${pad(p, 4)}`;
const poolName = (p: number): string => `Attendee ${pad(p, 4)}`;

/** Tomorrow 00:00 UTC: every bench meeting is in the future. */
function baseTime(now: number): number {
  return Math.floor(now / DAY) * DAY + DAY;
}

function fieldsOf(o: number, j: number, size: WorldSize, base: number, conferenceId: string): MeetingFields {
  const start = base + j * DAY + (8 + (o % 9)) * HOUR + (o % 4) * 15 * 60_000;
  const internal = Array.from({ length: INTERNAL_PER_MEETING }, (_, k) => (o * INTERNAL_PER_MEETING + j * 17 + k) % size.pool);
  return {
    uid: `mms-bench-${pad(o, 5)}-${pad(j, 3)}@${DOMAIN}`,
    meetingId: benchMeetingId(o * size.meetingsPerOrganizer + j),
    start,
    end: start + 30 * 60_000,
    subject: `Project sync ${pad(o, 5)}/${pad(j, 3)}`,
    organizerLocal: organizerLocal(o),
    organizerName: `Organizer ${pad(o, 5)}`,
    conferenceId,
    internal: internal.map((p) => ({ local: poolLocal(p), name: poolName(p) })),
    external: Array.from({ length: EXTERNAL_PER_MEETING }, (_, k) => `ext${pad((o * EXTERNAL_PER_MEETING + k) % 10_000, 4)}`),
  };
}

const attendeesOf = (f: MeetingFields): string[] => [...f.internal.map((a) => `${a.local}@${DOMAIN}`), ...f.external.map((a) => `${a}@${PARTNER}`)];

/** The columns BuiltinMailboxStore.put derives from a text (kept in step with src/mailbox/builtin-store.ts). */
export function derivedColumns(ics: string) {
  const ix = indexObject(ics);
  return {
    organizer: ix.organizer,
    first_start: ix.firstStart,
    last_end: ix.lastEnd,
    attendee_count: ix.attendees.length + (ix.organizer && !ix.attendees.some((a) => a.address === ix.organizer) ? 1 : 0),
    attendees: JSON.stringify(ix.attendees.map((a) => a.address).filter((a) => a !== ix.organizer)),
    online_meeting_id: onlineMeetingIdOf(ix.xProps),
    summary: ix.summary,
  };
}

/** The columns the generator writes for a meeting, without parsing it. */
function generatedColumns(f: MeetingFields) {
  return {
    organizer: `${f.organizerLocal}@${DOMAIN}`,
    first_start: f.start,
    last_end: f.end,
    attendee_count: f.internal.length + f.external.length + 1,
    attendees: JSON.stringify(attendeesOf(f)),
    online_meeting_id: f.meetingId,
    summary: f.subject,
  };
}

function sameColumns(what: string, a: object, b: object): void {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  if (x !== y) throw new Error(`bench world: ${what} differs from what the store derives:\n  generated ${x}\n  store     ${y}`);
}

async function timed<T>(into: Record<string, number>, key: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    into[key] = (performance.now() - t0) / 1000;
  }
}

/** Builds the world into `file` (a new SQLite database). */
export async function buildWorld(file: string, size: WorldSize): Promise<World> {
  fs.rmSync(file, { force: true });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const setupSeconds: Record<string, number> = {};
  const db = await openDatabase(file);
  const setupNow = Date.now();
  const now = () => setupNow;
  const ctx: DirectoryContext = { db, actor: 'bench', now: Date.now, migrationDelayMs: 0 };
  const base = baseTime(setupNow);
  const bridgeName = 'Bench US';
  const numberToUnassign = '+14255550100';
  let tenantId = '';

  await timed(setupSeconds, 'directory', async () => {
    const tenant = await newTenant(ctx, { name: 'Bench', domains: [DOMAIN] });
    tenantId = tenant.id;
    // Provisioning must queue nothing: migration is off until the users are in place (as the tests' fixture does).
    await changeTenant(ctx, tenantId, 'Set-CsTenantMigrationConfiguration', { settings: { meetingMigrationEnabled: false } });
    await newBridge(ctx, tenantId, {
      name: bridgeName,
      tollNumbers: [`${numberToUnassign} (Seattle) en-US`, '+14255550101 (Redmond) en-US', '+14255550102 (Bellevue) en-US'],
      tollFreeNumbers: ['+18665550100 (United States)'],
      isDefault: true,
    });
    await newBridge(ctx, tenantId, { name: 'Bench EU', tollNumbers: ['+442075550100 (London) en-GB'], tollFreeNumbers: ['+448005550100 (United Kingdom)'] });
    for (let o = 0; o < size.organizers; o++) {
      const upn = `${organizerLocal(o)}@${DOMAIN}`;
      await newUser(ctx, tenantId, { userPrincipalName: upn, displayName: `Organizer ${pad(o, 5)}` });
      await setLicense(ctx, tenantId, upn, { add: ['AudioConferencing'] });
      if (o % 500 === 499) log(`  world: ${o + 1}/${size.organizers} organizers`);
    }
    for (let p = 0; p < size.pool; p++) await newUser(ctx, tenantId, { userPrincipalName: `${poolLocal(p)}@${DOMAIN}`, displayName: poolName(p) });
    await newUser(ctx, tenantId, { userPrincipalName: `solo@${DOMAIN}`, displayName: 'Solo Organizer' });
    await setLicense(ctx, tenantId, `solo@${DOMAIN}`, { add: ['AudioConferencing'] });
    await setDialInUser(ctx, tenantId, `solo@${DOMAIN}`, { bridgeName: 'Bench EU' });
    for (const idle of ['idle1', 'idle2', 'idle3', 'idle4']) await newUser(ctx, tenantId, { userPrincipalName: `${idle}@${DOMAIN}`, displayName: idle });
    await changeTenant(ctx, tenantId, 'Set-CsTenantMigrationConfiguration', { settings: { meetingMigrationEnabled: true } });
    const queued = await listRequests(db.kysely, tenantId);
    if (queued.length) throw new Error(`bench world: provisioning queued ${queued.length} migration request(s); it must queue none`);
  });

  const users = new Map((await listUsers(db.kysely, tenantId)).map((u) => [u.upn, u]));
  const user = (upn: string): User => {
    const u = users.get(upn);
    if (!u) throw new Error(`bench world: no user ${upn}`);
    return u;
  };
  const organizer = (o: number) => user(`${organizerLocal(o)}@${DOMAIN}`);

  // The per-user scenario's organizer: every meeting through New-MmsMeeting.
  await timed(setupSeconds, 'soloMeetings', async () => {
    for (let j = 0; j < size.soloMeetings; j++) {
      const start = base + Math.floor(j / 2) * DAY + (9 + (j % 2) * 5) * HOUR;
      const internal = Array.from({ length: INTERNAL_PER_MEETING }, (_, k) => `${poolLocal((j * INTERNAL_PER_MEETING + k) % size.pool)}@${DOMAIN}`);
      const external = Array.from({ length: EXTERNAL_PER_MEETING }, (_, k) => `ext${pad(9000 + k, 4)}@${PARTNER}`);
      await scheduleMeeting(db, tenantId, {
        organizer: `solo@${DOMAIN}`, subject: `Solo review ${pad(j, 3)}`, start, end: start + 45 * 60_000, attendees: [...internal, ...external], body: BODY,
        uid: `mms-bench-solo-${pad(j, 3)}@${DOMAIN}`, meetingId: benchMeetingId(1_000_000_000 + j),
      }, now);
    }
  });

  // The template and the samples: real New-MmsMeeting; the generator must reproduce the samples byte for byte.
  const schedule = (f: MeetingFields) =>
    scheduleMeeting(db, tenantId, {
      organizer: `${f.organizerLocal}@${DOMAIN}`, subject: f.subject, start: f.start, end: f.end, attendees: attendeesOf(f), body: BODY, uid: f.uid, meetingId: f.meetingId,
    }, now);
  const fields = (o: number, j: number) => fieldsOf(o, j, size, base, organizer(o).conferenceId);
  const real = new Set<string>();
  let template!: MeetingTemplate;
  await timed(setupSeconds, 'template', async () => {
    const f0 = fields(0, 0);
    await schedule(f0);
    real.add('0/0');
    const row = await db.kysely.selectFrom('calendar_objects').selectAll().where('mailbox_user_id', '=', organizer(0).id).where('uid', '=', f0.uid).executeTakeFirstOrThrow();
    const t = await getTenant(db.kysely, tenantId);
    if (!t) throw new Error('bench world: the tenant vanished');
    const bridges = await listBridges(db.kysely, tenantId);
    const block = renderBlock(blockInputFor(organizer(0), t, bridges, f0.meetingId));
    template = new MeetingTemplate(row.ics, f0, block.text);
    const samples = ([[0, 1], [1, 0], [2, 3], [size.organizers - 1, size.meetingsPerOrganizer - 1]] as const)
      .filter(([o, j]) => o < size.organizers && j < size.meetingsPerOrganizer && !real.has(`${o}/${j}`));
    for (const [o, j] of samples) {
      const f = fields(o, j);
      await schedule(f);
      real.add(`${o}/${j}`);
      const holders = [organizer(o), ...f.internal.map((a) => user(`${a.local}@${DOMAIN}`))];
      const ics = template.icsFor(f);
      for (const h of holders) {
        const stored = await db.kysely.selectFrom('calendar_objects').selectAll().where('mailbox_user_id', '=', h.id).where('uid', '=', f.uid).executeTakeFirstOrThrow();
        if (stored.ics !== ics) {
          fs.writeFileSync(`${file}.expected.ics`, stored.ics);
          fs.writeFileSync(`${file}.generated.ics`, ics);
          throw new Error(`bench world: the generated text of ${f.uid} differs from New-MmsMeeting's (see ${file}.expected.ics / .generated.ics)`);
        }
        const { organizer: o1, first_start, last_end, attendee_count, attendees, online_meeting_id, summary } = stored;
        sameColumns(`${f.uid} in ${h.upn}'s mailbox`, generatedColumns(f), { organizer: o1, first_start, last_end, attendee_count, attendees, online_meeting_id, summary });
      }
    }
    log(`  world: template ${row.ics.length} bytes; ${samples.length} generated samples identical to New-MmsMeeting's`);
  });
  await db.close();

  // Bulk: one connection of our own, large transactions, prepared statement.
  await timed(setupSeconds, 'bulkInsert', async () => bulkInsert(file, tenantId, size, real, fields, template, users, setupNow));
  await timed(setupSeconds, 'personalCopies', async () => personalizeScheduled(file));
  await timed(setupSeconds, 'verify', async () => verifySample(file, size));

  const raw = new SQLite(file);
  raw.pragma('wal_checkpoint(TRUNCATE)');
  const stats = raw.prepare('select count(*) as n, avg(length(ics)) as bytes from calendar_objects').get() as { n: number; bytes: number };
  raw.close();
  return {
    file,
    size,
    tenantName: 'Bench',
    bridgeName,
    numberToUnassign,
    soloUpn: `solo@${DOMAIN}`,
    idleUpns: ['idle1', 'idle2', 'idle3', 'idle4'].map((x) => `${x}@${DOMAIN}`),
    tenantWideMeetings: size.organizers * size.meetingsPerOrganizer,
    calendarRows: stats.n,
    averageIcsBytes: Math.round(stats.bytes),
    setupSeconds,
  };
}

async function bulkInsert(
  file: string,
  tenantId: string,
  size: WorldSize,
  skip: ReadonlySet<string>,
  fields: (o: number, j: number) => MeetingFields,
  template: MeetingTemplate,
  users: ReadonlyMap<string, User>,
  at: number,
): Promise<number> {
  const h = new SQLite(file);
  h.pragma('synchronous = OFF');
  h.pragma('cache_size = -262144');
  const next = new Map<string, number>();
  for (const r of h.prepare('select mailbox_user_id as id, max(position) as p from calendar_objects group by mailbox_user_id').all() as Array<{ id: string; p: number }>) next.set(r.id, r.p + 1);
  const position = (id: string): number => {
    const p = next.get(id) ?? 0;
    next.set(id, p + 1);
    return p;
  };
  const ids = new Map([...users.values()].map((u) => [u.upn.split('@')[0] as string, u.id]));
  const insert = h.prepare(`insert into calendar_objects
    (tenant_id, mailbox_user_id, uid, ics, organizer, first_start, last_end, attendee_count, attendees, online_meeting_id, summary, position, version, created_at, modified_at)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`);
  let rows = 0;
  const total = size.organizers * size.meetingsPerOrganizer;
  const t0 = performance.now();
  // Meeting-major order: the first meeting of every organizer, then the second, … (as a calendar fills up).
  const chunk = h.transaction((j: number, from: number, to: number) => {
    for (let o = from; o < to; o++) {
      if (skip.has(`${o}/${j}`)) continue;
      const f = fields(o, j);
      const ics = template.icsFor(f);
      const c = generatedColumns(f);
      const own = ids.get(f.organizerLocal) as string;
      insert.run(tenantId, own, f.uid, ics, c.organizer, c.first_start, c.last_end, c.attendee_count, c.attendees, c.online_meeting_id, c.summary, position(own), at, at);
      rows++;
      // Each internal attendee's copy is their own: their response, a reminder and a category (see personal-copy.ts).
      for (const [k, a] of f.internal.entries()) {
        const id = ids.get(a.local) as string;
        const address = `${a.local}@${DOMAIN}`;
        const mine = personalize(ics, address, personalFor(address, o + j + k));
        insert.run(tenantId, id, f.uid, mine, c.organizer, c.first_start, c.last_end, c.attendee_count, c.attendees, c.online_meeting_id, c.summary, position(id), at, at);
        rows++;
      }
    }
  });
  const step = 2_000;
  let done = 0;
  let lastLog = performance.now();
  for (let j = 0; j < size.meetingsPerOrganizer; j++) {
    for (let o = 0; o < size.organizers; o += step) {
      chunk(j, o, Math.min(size.organizers, o + step));
      done += Math.min(size.organizers, o + step) - o;
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`  world: ${done}/${total} meetings written (${seconds((performance.now() - t0) / 1000)})`);
      }
    }
  }
  h.close();
  return rows;
}

/**
 * The attendee copies New-MmsMeeting wrote (the per-user organizer's meetings, the template and the samples) are
 * the organizer's text; they get their attendee's own edits too, like the generated ones.
 */
function personalizeScheduled(file: string): number {
  const h = new SQLite(file);
  const rows = h.prepare(`select c.id, c.ics, u.upn from calendar_objects c join users u on u.id = c.mailbox_user_id
    where c.organizer <> u.upn and c.ics not like '%BEGIN:VALARM%'`).all() as Array<{ id: number; ics: string; upn: string }>;
  const update = h.prepare('update calendar_objects set ics = ? where id = ?');
  h.transaction(() => {
    for (const [n, r] of rows.entries()) update.run(personalize(r.ics, r.upn, personalFor(r.upn, n)), r.id);
  })();
  h.close();
  return rows.length;
}

/** Random generated rows against what the store would derive from their text (indexObject). */
async function verifySample(file: string, size: WorldSize): Promise<void> {
  const h = new SQLite(file, { readonly: true });
  const rows = h.prepare(`select * from calendar_objects where uid like 'mms-bench-0%' order by random() limit 25`).all() as Array<Record<string, unknown>>;
  for (const r of rows) {
    const { organizer, first_start, last_end, attendee_count, attendees, online_meeting_id, summary } = r;
    sameColumns(`${String(r.uid)} (generated)`, { organizer, first_start, last_end, attendee_count, attendees, online_meeting_id, summary }, derivedColumns(String(r.ics)));
  }
  const perOrganizer = h.prepare(`select count(*) as n from calendar_objects c join users u on u.id = c.mailbox_user_id and c.organizer = u.upn where u.upn like 'org%'`).get() as { n: number };
  h.close();
  if (perOrganizer.n !== size.organizers * size.meetingsPerOrganizer) {
    throw new Error(`bench world: ${perOrganizer.n} organizer copies, expected ${size.organizers * size.meetingsPerOrganizer}`);
  }
}

/** Copies the world's file for one scenario (SQLite) and returns the copy's path. */
export function copyWorld(world: World, dest: string): string {
  fs.rmSync(dest, { force: true });
  for (const suffix of ['-wal', '-shm']) fs.rmSync(dest + suffix, { force: true });
  fs.copyFileSync(world.file, dest);
  return dest;
}

