// The physical floor of a tenant-wide migration: the rows and bytes the engine writes, written with plain prepared
// statements (better-sqlite3, or `pg` directly) and no iCalendar work, on a fresh copy of the world. Per organizer
// one read of their organized meetings (the engine must read them too), then per batch of 50 meetings one write
// transaction. What one migrated meeting writes is listed once, in FLOOR_ROWS and `rowsOf` below: when the engine's
// rows change (e.g. one iTIP message per recipient), change them there. Left out on purpose: the queue's own small
// writes per user (claim, attempt row, progress and lease renewal per batch, finish), which are not the data.
import { randomUUID } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { log } from './report.js';

/** What the floor writes per migrated meeting (printed with the figures). */
export const FLOOR_ROWS = [
  'the organizer copy: new text of the same size, version + 1, conditional on the version read',
  'each internal attendee\'s own copy (4): read, then new text of the same size, conditional on its version',
  'one iMIP message (outbox_messages) shared by the external attendees: the REQUEST text',
  'one outbox row per attendee (8: 4 Applied internal, 4 Queued external)',
  'one ledger row (migration_meetings) with a previous_block as large as the engine\'s',
] as const;

export interface FloorResult {
  readonly meetings: number;
  readonly seconds: number;
  readonly writers: number;
  readonly complete: boolean;
  /** Rows written, counted back from the database afterwards (untimed): the floor proves what it claims. */
  readonly rows: { calendarObjects: number; messages: number; outbox: number; ledger: number };
}

interface Meeting {
  readonly id: number;
  readonly uid: string;
  readonly version: number;
  readonly ics: string;
  readonly summary: string;
  readonly firstStart: number | null;
  readonly attendees: readonly string[];
}

interface Organizer {
  readonly id: string;
  readonly upn: string;
}

/** A stand-in for the block change: another toll number of the same length, so every text keeps its size. */
export const nextText = (ics: string): string => ics.replace(/\+1425555010[012]/g, (m) => (m.endsWith('2') ? '+14255550101' : '+14255550102'));
/** The iMIP REQUEST built from the new text (RFC 6047): METHOD, SENT-BY, no RSVP. */
const asRequest = (ics: string, sender: string): string =>
  ics.replace('BEGIN:VCALENDAR\r\n', 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n').replace('ORGANIZER;', `ORGANIZER;SENT-BY="mailto:${sender}";`).replace(/RSVP=TRUE/g, 'RSVP=FALSE');

/** The rows of one batch, built from what was read: the one place that says what a migrated meeting writes. */
function rowsOf(ctx: FloorContext, org: Organizer, correlationId: string, batch: readonly Meeting[], copies: ReadonlyArray<{ id: number; version: number; ics: string }>, now: number) {
  const objects = [
    ...batch.map((m) => ({ id: m.id, version: m.version, ics: nextText(m.ics) })),
    ...copies.map((c) => ({ id: c.id, version: c.version, ics: nextText(c.ics) })),
  ];
  const messages = batch.map((m) => ({ uid: m.uid, from: org.upn, sender: ctx.sender, subject: m.summary, ics: asRequest(nextText(m.ics), ctx.sender) }));
  const outbox = batch.flatMap((m) => m.attendees.map((a) => ({ uid: m.uid, recipient: a, internal: ctx.internal.has(a) })));
  const ledger = batch.map((m) => ({ uid: m.uid, subject: m.summary, start: m.firstStart, notified: m.attendees.length, versionWritten: m.version + 1 }));
  return { correlationId, objects, messages, outbox, ledger, now };
}

interface FloorContext {
  readonly tenantId: string;
  readonly sender: string;
  /** Internal attendee address -> user id. */
  readonly internal: ReadonlyMap<string, string>;
  readonly previousBlock: string;
}

type Batch = ReturnType<typeof rowsOf>;

/** One writer's connection: reads an organizer's meetings, reads a batch's attendee copies, writes a batch. */
interface FloorDriver {
  organized(org: Organizer): Promise<Meeting[]>;
  copies(keys: ReadonlyArray<{ mailboxUserId: string; uid: string }>): Promise<Array<{ id: number; version: number; ics: string }>>;
  begin(): Promise<void>;
  write(org: Organizer, b: Batch): Promise<void>;
  commit(): Promise<void>;
  close(): Promise<void>;
}

const ORGANIZED = `select id, uid, version, ics, summary, first_start, attendees from calendar_objects
  where mailbox_user_id = ? and organizer = ? and (last_end is null or last_end > ?) order by first_start, id`;

function sqliteDriver(file: string, ctx: FloorContext): FloorDriver {
  const h = new SQLite(file);
  // The engine's own settings (src/store/db.ts): the floor must not be faster by being less durable.
  h.pragma('journal_mode = WAL');
  h.pragma('busy_timeout = 10000');
  h.pragma('synchronous = NORMAL');
  h.pragma('foreign_keys = ON');
  h.pragma('cache_size = -32768');
  h.pragma('wal_autocheckpoint = 10000');
  const organized = h.prepare(ORGANIZED);
  const copy = h.prepare('select id, version, ics from calendar_objects where mailbox_user_id = ? and uid = ?');
  const update = h.prepare('update calendar_objects set ics = ?, version = version + 1, modified_at = ? where id = ? and version = ?');
  const message = h.prepare(`insert into outbox_messages (tenant_id, correlation_id, uid, from_address, sender_address, subject, ics)
    values (?, ?, ?, ?, ?, ?, ?) returning id`);
  const outbox = h.prepare(`insert into outbox (tenant_id, correlation_id, organizer_id, uid, recipient, internal, method, state, message_id, created_at, sent_at, last_error)
    values (?, ?, ?, ?, ?, ?, 'REQUEST', ?, ?, ?, ?, null)`);
  const ledger = h.prepare(`insert into migration_meetings (correlation_id, tenant_id, user_id, uid, subject, start_time, action, reason, attendees_notified, at, version_written, previous_block)
    values (?, ?, ?, ?, ?, ?, 'Updated', 'BlockReplaced', ?, ?, ?, ?)`);
  return {
    async organized(org) {
      const rows = organized.all(org.id, org.upn, Date.now()) as Array<{ id: number; uid: string; version: number; ics: string; summary: string; first_start: number | null; attendees: string }>;
      return rows.map((r) => ({ id: r.id, uid: r.uid, version: r.version, ics: r.ics, summary: r.summary, firstStart: r.first_start, attendees: JSON.parse(r.attendees) as string[] }));
    },
    async copies(keys) {
      return keys.flatMap((k) => (copy.all(k.mailboxUserId, k.uid) as Array<{ id: number; version: number; ics: string }>));
    },
    async begin() {
      h.prepare('begin immediate').run();
    },
    async write(org, b) {
      for (const o of b.objects) {
        if (update.run(o.ics, b.now, o.id, o.version).changes !== 1) throw new Error(`bench floor: calendar object ${o.id} changed underneath; run on a fresh copy of the world`);
      }
      const ids = new Map<string, number>();
      for (const m of b.messages) ids.set(m.uid, Number((message.get(ctx.tenantId, b.correlationId, m.uid, m.from, m.sender, m.subject, m.ics) as { id: number }).id));
      for (const r of b.outbox) {
        outbox.run(ctx.tenantId, b.correlationId, org.id, r.uid, r.recipient, r.internal ? 1 : 0, r.internal ? 'Applied' : 'Queued', r.internal ? null : ids.get(r.uid) ?? null, b.now, r.internal ? b.now : null);
      }
      for (const l of b.ledger) ledger.run(b.correlationId, ctx.tenantId, org.id, l.uid, l.subject, l.start, l.notified, b.now, l.versionWritten, ctx.previousBlock);
    },
    async commit() {
      h.prepare('commit').run();
    },
    async close() {
      h.close();
    },
  };
}

// PostgreSQL: one statement per kind of row per batch, the rows passed as arrays (unnest), each a named prepared
// statement — a handful of round trips per 50 meetings, as the engine's multi-row statements.
async function postgresDriver(url: string, ctx: FloorContext): Promise<FloorDriver> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const q = async <R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]) => (await c.query<R>({ name, text, values })).rows;
  return {
    async organized(org) {
      const rows = await q<{ id: string; uid: string; version: number; ics: string; summary: string; first_start: string | null; attendees: string }>('floor_organized',
        ORGANIZED.replace('?', '$1').replace('?', '$2').replace('?', '$3'), [org.id, org.upn, Date.now()]);
      return rows.map((r) => ({ id: Number(r.id), uid: r.uid, version: Number(r.version), ics: r.ics, summary: r.summary, firstStart: r.first_start === null ? null : Number(r.first_start), attendees: JSON.parse(r.attendees) as string[] }));
    },
    async copies(keys) {
      const rows = await q<{ id: string; version: number; ics: string }>('floor_copies',
        `select c.id, c.version, c.ics from calendar_objects c join unnest($1::text[], $2::text[]) k(m, u) on c.mailbox_user_id = k.m and c.uid = k.u`,
        [keys.map((k) => k.mailboxUserId), keys.map((k) => k.uid)]);
      return rows.map((r) => ({ id: Number(r.id), version: Number(r.version), ics: r.ics }));
    },
    async begin() {
      await c.query('begin');
    },
    async write(org, b) {
      const updated = await q('floor_update', `update calendar_objects c set ics = v.ics, version = c.version + 1, modified_at = $4
        from unnest($1::bigint[], $2::text[], $3::int[]) v(id, ics, ver) where c.id = v.id and c.version = v.ver returning c.id`,
      [b.objects.map((o) => o.id), b.objects.map((o) => o.ics), b.objects.map((o) => o.version), b.now]);
      if (updated.length !== b.objects.length) throw new Error(`bench floor: ${b.objects.length - updated.length} calendar objects changed underneath; run on a fresh copy of the world`);
      const ids = new Map((await q<{ id: string; uid: string }>('floor_messages', `insert into outbox_messages (tenant_id, correlation_id, uid, from_address, sender_address, subject, ics)
        select $1, $2, * from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) returning id, uid`,
      [ctx.tenantId, b.correlationId, b.messages.map((m) => m.uid), b.messages.map((m) => m.from), b.messages.map((m) => m.sender), b.messages.map((m) => m.subject), b.messages.map((m) => m.ics)]))
        .map((r) => [r.uid, Number(r.id)]));
      await q('floor_outbox', `insert into outbox (tenant_id, correlation_id, organizer_id, uid, recipient, internal, method, state, message_id, created_at, sent_at, last_error)
        select $1, $2, $3, u, r, i, 'REQUEST', s, mid, $4, sa, null from unnest($5::text[], $6::text[], $7::int[], $8::text[], $9::bigint[], $10::bigint[]) x(u, r, i, s, mid, sa)`,
      [ctx.tenantId, b.correlationId, org.id, b.now, b.outbox.map((r) => r.uid), b.outbox.map((r) => r.recipient), b.outbox.map((r) => (r.internal ? 1 : 0)),
        b.outbox.map((r) => (r.internal ? 'Applied' : 'Queued')), b.outbox.map((r) => (r.internal ? null : ids.get(r.uid) ?? null)), b.outbox.map((r) => (r.internal ? b.now : null))]);
      await q('floor_ledger', `insert into migration_meetings (correlation_id, tenant_id, user_id, uid, subject, start_time, action, reason, attendees_notified, at, version_written, previous_block)
        select $1, $2, $3, u, s, st, 'Updated', 'BlockReplaced', n, $4, vw, $5 from unnest($6::text[], $7::text[], $8::bigint[], $9::int[], $10::int[]) x(u, s, st, n, vw)`,
      [b.correlationId, ctx.tenantId, org.id, b.now, ctx.previousBlock, b.ledger.map((l) => l.uid), b.ledger.map((l) => l.subject), b.ledger.map((l) => l.start), b.ledger.map((l) => l.notified), b.ledger.map((l) => l.versionWritten)]);
    },
    async commit() {
      await c.query('commit');
    },
    async close() {
      await c.end();
    },
  };
}

export interface FloorTarget {
  readonly dialect: 'sqlite' | 'postgres';
  /** A fresh copy of the world: a SQLite file, or a PostgreSQL URL with its schema. */
  readonly url: string;
  readonly tenantId: string;
  readonly domain: string;
  /** A previous_block of the engine's (from a per-user run): the ledger rows are as large as the engine's. */
  readonly previousBlock: string;
}

/**
 * Writes the tenant-wide migration's rows with `writers` concurrent connections (each takes the next organizer),
 * `batchSize` meetings a transaction, until every organizer is done or `maxSeconds` have passed.
 */
export async function floorWrite(t: FloorTarget, writers: number, batchSize: number, maxSeconds: number): Promise<FloorResult> {
  const users = await listUsers(t);
  const internal = new Map(users.filter((u) => !u.upn.startsWith('org') && u.mailbox_location === 'Online').map((u) => [u.upn, u.id]));
  const organizers = users.filter((u) => u.upn.startsWith('org')).sort((a, b) => a.upn.localeCompare(b.upn));
  const ctx: FloorContext = { tenantId: t.tenantId, sender: `mms@${t.domain}`, internal, previousBlock: t.previousBlock };
  const drivers = await Promise.all(Array.from({ length: writers }, () => (t.dialect === 'sqlite' ? sqliteDriver(t.url, ctx) : postgresDriver(t.url, ctx))));
  let meetings = 0;
  let next = 0;
  const t0 = performance.now();
  const deadline = maxSeconds > 0 ? t0 + maxSeconds * 1000 : Infinity;
  let lastLog = t0;
  const loop = async (d: FloorDriver) => {
    for (;;) {
      if (performance.now() > deadline) return;
      const org = organizers[next++];
      if (!org) return;
      const correlationId = randomUUID();
      const mine = await d.organized(org);
      for (let i = 0; i < mine.length; i += batchSize) {
        const batch = mine.slice(i, i + batchSize);
        const now = Date.now();
        await d.begin();
        const copies = await d.copies(batch.flatMap((m) => m.attendees.flatMap((a) => {
          const id = internal.get(a);
          return id ? [{ mailboxUserId: id, uid: m.uid }] : [];
        })));
        await d.write(org, rowsOf(ctx, org, correlationId, batch, copies, now));
        await d.commit();
        meetings += batch.length;
      }
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        log(`  floor: ${meetings} meetings`);
      }
    }
  };
  try {
    await Promise.all(drivers.map(loop));
  } finally {
    await Promise.all(drivers.map((d) => d.close()));
  }
  const seconds = (performance.now() - t0) / 1000;
  return { meetings, seconds, writers, complete: next >= organizers.length, rows: await countRows(t) };
}

async function listUsers(t: FloorTarget): Promise<Array<{ id: string; upn: string; mailbox_location: string }>> {
  const text = 'select id, upn, mailbox_location from users where tenant_id = $1';
  if (t.dialect === 'sqlite') {
    const h = new SQLite(t.url, { readonly: true });
    try {
      return h.prepare(text.replace('$1', '?')).all(t.tenantId) as Array<{ id: string; upn: string; mailbox_location: string }>;
    } finally {
      h.close();
    }
  }
  const c = new pg.Client({ connectionString: t.url });
  await c.connect();
  try {
    return (await c.query<{ id: string; upn: string; mailbox_location: string }>(text, [t.tenantId])).rows;
  } finally {
    await c.end();
  }
}

async function countRows(t: FloorTarget): Promise<FloorResult['rows']> {
  const text = `select (select count(*) from calendar_objects where version > 1) as c, (select count(*) from outbox_messages) as m,
    (select count(*) from outbox) as o, (select count(*) from migration_meetings) as l`;
  let r: { c: number | string; m: number | string; o: number | string; l: number | string };
  if (t.dialect === 'sqlite') {
    const h = new SQLite(t.url, { readonly: true });
    r = h.prepare(text).get() as typeof r;
    h.close();
  } else {
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    r = (await c.query<typeof r>(text)).rows[0] as typeof r;
    await c.end();
  }
  return { calendarObjects: Number(r.c), messages: Number(r.m), outbox: Number(r.o), ledger: Number(r.l) };
}
