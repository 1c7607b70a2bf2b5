// The storage limit: the rows a tenant-wide migration writes, written without any iCalendar work. Per organizer,
// the same read of their organized meetings, then per batch of 50 one write transaction with the statements the
// engine's writeBatch issues: the organizer copies' conditional multi-row UPDATE, one read of the internal attendees'
// copies and their conditional UPDATE, the outbox_messages and outbox inserts and the migration_meetings rows —
// through the same store functions. The new texts are precomputed by plain string replacement.
import { randomUUID } from 'node:crypto';
import { BuiltinMailboxStore } from '../src/mailbox/index.js';
import { recordMeetings, type LedgerRow } from '../src/store/ledger-repo.js';
import { recordNotifications, type Notification } from '../src/store/outbox-repo.js';
import { writeTransaction } from '../src/store/transaction.js';
import { log } from './report.js';
import type { Target } from './scenarios.js';

export interface RawResult {
  readonly meetings: number;
  readonly seconds: number;
  readonly writers: number;
  /** Time spent preparing texts (string replacement), included in `seconds` (it is small). */
  readonly prepareSeconds: number;
  readonly complete: boolean;
}

/** Precomputed "new" text: another toll number of the same length, as a migration would change it. */
const nextText = (ics: string): string => ics.replace(/\+1425555010[012]/g, (m) => (m.endsWith('2') ? '+14255550101' : '+14255550102'));
const asRequest = (ics: string, sender: string): string =>
  ics.replace('BEGIN:VCALENDAR\r\n', 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n').replace('ORGANIZER;', `ORGANIZER;SENT-BY="mailto:${sender}";`).replace(/RSVP=TRUE/g, 'RSVP=FALSE');

export async function rawWrite(t: Target, writers: number, batchSize: number, maxSeconds: number): Promise<RawResult> {
  const { db, tenant } = t;
  const users = await db.kysely.selectFrom('users').select(['id', 'upn', 'mailbox_location']).where('tenant_id', '=', tenant.id).execute();
  const internal = new Map(users.map((u) => [u.upn, u]));
  const organizers = users.filter((u) => u.upn.startsWith('org')).sort((a, b) => a.upn.localeCompare(b.upn));
  const sample = await db.kysely.selectFrom('migration_meetings').select('previous_block').where('previous_block', 'is not', null).limit(1).executeTakeFirst();
  const previousBlock = sample?.previous_block ?? JSON.stringify([{ recurrenceId: null, text: 'x'.repeat(600), html: 'x'.repeat(1800) }]);
  const sender = `mms@${tenant.domains[0]}`;
  let meetings = 0;
  let prepare = 0;
  let next = 0;
  const t0 = performance.now();
  const deadline = maxSeconds > 0 ? t0 + maxSeconds * 1000 : Infinity;
  let lastLog = t0;

  const one = async (org: { id: string; upn: string }) => {
    const reader = new BuiltinMailboxStore(db.kysely, tenant.id, Date.now);
    const objects = await reader.listOrganized(org.id, [org.upn], Number.MIN_SAFE_INTEGER);
    const p0 = performance.now();
    const texts = objects.map((o) => {
      const ics = nextText(o.ics);
      return { ics, request: asRequest(ics, sender) };
    });
    prepare += (performance.now() - p0) / 1000;
    const correlationId = randomUUID();
    for (let i = 0; i < objects.length; i += batchSize) {
      const now = Date.now();
      const batch = objects.slice(i, i + batchSize).map((o, k) => ({ o, text: texts[i + k] as { ics: string; request: string } }));
      await writeTransaction(db, async (tx) => {
        const store = new BuiltinMailboxStore(tx, tenant.id, () => now);
        const written = await store.replaceMany(batch.map(({ o, text }) => ({ id: o.id, ifVersion: o.version, ics: text.ics })));
        const wanted = batch.flatMap(({ o }) => o.attendees.flatMap((a) => {
          const u = internal.get(a);
          return u && u.mailbox_location === 'Online' ? [{ mailboxUserId: u.id, uid: o.uid }] : [];
        }));
        const textOf = new Map(batch.map(({ o, text }) => [o.uid, text.ics]));
        const copies = await store.getMany(wanted);
        await store.replaceMany(copies.map((c) => ({ id: c.id, ifVersion: c.version, ics: textOf.get(c.uid) as string })));
        const notifications = batch.map(({ o, text }) => {
          const recipients: Notification[] = o.attendees.map((a) => ({ recipient: a, internal: internal.get(a)?.mailbox_location === 'Online' }));
          return {
            tenantId: tenant.id, correlationId, organizerId: org.id, uid: o.uid, now, recipients,
            message: recipients.some((r) => !r.internal) ? { from: org.upn, sender, subject: o.summary, ics: text.request } : null,
          };
        });
        await recordNotifications(tx, notifications);
        const ledger: LedgerRow[] = batch.map(({ o }, k) => ({
          correlationId, tenantId: tenant.id, userId: org.id, uid: o.uid, subject: o.summary, startTime: o.firstStart, action: 'Updated',
          reason: 'BlockReplaced', attendeesNotified: notifications[k]?.recipients.length ?? 0, at: now, versionWritten: o.version + 1, previousBlock,
        }));
        await recordMeetings(tx, ledger);
        if (written.size !== batch.length) throw new Error(`bench raw write: ${batch.length - written.size} organizer copies changed underneath`);
      });
      meetings += batch.length;
    }
  };

  const loop = async () => {
    for (;;) {
      if (performance.now() > deadline) return;
      const org = organizers[next++];
      if (!org) return;
      await one(org);
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        log(`  raw write: ${meetings} meetings`);
      }
    }
  };
  await Promise.all(Array.from({ length: writers }, loop));
  return { meetings, seconds: (performance.now() - t0) / 1000, writers, prepareSeconds: prepare, complete: next >= organizers.length };
}
