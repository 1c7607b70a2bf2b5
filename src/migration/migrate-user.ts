import { MmsError, notFound } from '../domain/errors.js';
import { MIGRATION_TYPES, meetingTypeScope, type MigrationType, type SourceMeetingType } from '../domain/migration.js';
import { openUserMailbox, type MeetingFacts, type MeetingObject, type UserMailbox } from '../mailbox/index.js';
import type { SecretBox } from '../secrets/index.js';
import type { Db } from '../store/index.js';
import { countMeetings, recordMeetings, type LedgerRow } from '../store/ledger-repo.js';
import type { RequestCounts } from '../store/queue-repo.js';
import { loadFormerProviders } from './former-providers.js';
import { planMeeting } from './plan-meeting.js';
import { newRewriteMemo } from './rewrite-meeting.js';
import { loadScope, planContext, resultOf, type MeetingResult, type UserScope } from './user-scope.js';
import { CONFLICT_RETRIES, deletedRow, intentPayload, MEETING_DELETED, writeBatch, type BatchContext, type Planned, type UpdateRecord } from './write-batch.js';

export { loadScope, planContext, recipientsOf, resultOf, type MeetingResult, type UserScope } from './user-scope.js';

export interface MigrateOptions {
  readonly db: Db;
  readonly now: () => number;
  /** The mailbox that sends updates on the organizer's behalf; default mms@<primary domain>. */
  readonly serviceAddress?: string;
  /** Meetings written per batch (one transaction in the built-in store). */
  readonly batchSize?: number;
  /** -WhatIf: plan every meeting, write nothing. */
  readonly preview?: boolean;
  /** Called after each batch with the counts so far (progress, lease renewal). */
  readonly onProgress?: (counts: RequestCounts) => Promise<void> | void;
  /** Stops between batches (SIGTERM, lost lease); the request is then given back, not finished. */
  readonly shouldStop?: () => boolean;
  /** Tests: runs after a batch is planned and before it is written (to make a concurrent edit happen). */
  readonly beforeWrite?: (uids: readonly string[]) => Promise<void>;
  /** Opens the passwords of mailbox hosts; needed for users whose mailbox is on one. */
  readonly secrets?: SecretBox;
  /** Per-request timeout for calendar servers (default 30 s). */
  readonly davTimeoutMs?: number;
}

/** One turn of the event loop (see the batch loop). */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Whether a meeting is in the request's source (issue 12): `All` takes every meeting, `SfB` / `Teams` only meetings of
 * that type. A meeting of no known type (a former provider's dial-in text) counts as SfB, the block it would get.
 * Meetings outside the source are not looked at: not counted in TotalMeeting, no ledger row — like appointments
 * without an online meeting, they are not this request's meetings.
 */
export const inSource = (o: MeetingFacts, source: SourceMeetingType): boolean => source === 'All' || (o.meetingType ?? 'SfB') === source;

const plan = (o: MeetingObject, ctx: ReturnType<typeof planContext> & { source?: SourceMeetingType }, now: number): Planned | null => {
  if (ctx.source && !inSource(o, ctx.source)) return null;
  // One memo per meeting: its attendees' copies are rewritten in the same batch, with the same renderer and `now`.
  const memo = newRewriteMemo();
  const p = planMeeting(o, { ...ctx, now, memo });
  return p && { o, plan: p, memo };
};
const planned = (x: Planned | null): x is Planned => x !== null;

/**
 * Plans a batch. `ahead` (planned while the batch before it is being written, see migrateUser): a meeting at a time,
 * each in a turn of the event loop of its own, so that the database server's answers are taken in as they come
 * instead of after the whole plan. Otherwise at once.
 */
async function planBatch(objects: readonly MeetingObject[], ctx: Parameters<typeof plan>[1], now: number, ahead: boolean): Promise<Planned[]> {
  const out: Planned[] = [];
  for (const o of objects) {
    if (ahead) await yieldToEventLoop();
    const p = plan(o, ctx, now);
    if (p) out.push(p);
  }
  return out;
}

/**
 * Finishes what an earlier attempt wrote to a remote store but did not record (it died between the PUT and the
 * commit, or the migration ended Failed in between): such an object carries its intent's marker, so it is recorded
 * as written now, under this migration — attendee copies, notifications, ledger row — instead of being written (and
 * announced) again. Returns their UIDs.
 */
async function finishUnrecorded(mailbox: UserMailbox, batch: BatchContext, size: number): Promise<Set<string>> {
  const left = await mailbox.unfinished();
  // Recorded a batch at a time, like the migration itself: transient failures over several attempts can leave
  // many intents, and one transaction for all of them would hold the write lock for as long (issue 9 §2).
  for (let i = 0; i < left.length; i += size) {
    const chunk = left.slice(i, i + size);
    const items: Planned[] = chunk.map(({ intent, o }) => ({ o, plan: { action: 'Update', ics: o.ics, ...(JSON.parse(intent.payload) as UpdateRecord) } }));
    await mailbox.writeBatch(batch.correlationId, () => chunk.map((l) => l.intent), (unit) => writeBatch(unit, batch, items, { written: true }));
  }
  return new Set(left.map((l) => l.o.uid));
}

/**
 * Migrates one user's meetings, in whichever store their mailbox is: builds the target block from the directory as
 * it is now, finds every meeting the user organized, replaces only the block in the future ones (skipping, with a
 * recorded reason, past ones, copied blocks, oversized meetings, unparseable objects and — if the tenant says so —
 * edited blocks), writes each conditionally and announces it to every attendee (or lets the server do it). Running
 * it again touches only what is left.
 */
export async function migrateUser(
  opts: MigrateOptions,
  request: { correlationId: string; tenantId: string; userId: string; migrationType?: MigrationType },
): Promise<{ results: MeetingResult[]; counts: RequestCounts; stopped: boolean }> {
  const { db } = opts;
  // What the request's MigrationType says (issue 12): which meetings it touches, and whether they become Teams ones.
  const types = meetingTypeScope(request.migrationType ?? await migrationTypeOf(db, request.correlationId));
  const row = await db.kysely.selectFrom('users').select(['id', 'upn', 'sip_address', 'mailbox_location']).where('id', '=', request.userId).executeTakeFirst();
  if (!row) throw notFound(`user ${request.userId} no longer exists; nothing to migrate`);
  if (row.mailbox_location !== 'Online') {
    throw new MmsError('Conflict', `the mailbox of ${row.upn} is on-premises, out of MMS's reach: use manual migration (Invoke-MmsMeetingMigrationTool, the Meeting Migration Tool) or move the mailbox online, then run Start-CsExMeetingMigration`);
  }
  const mailbox = await openUserMailbox(db, request.tenantId, request.userId, { now: opts.now, secrets: opts.secrets, timeoutMs: opts.davTimeoutMs });
  const addresses = [row.upn, row.sip_address.replace(/^sip:/, '')];
  const listed = (await mailbox.listOrganized(addresses, Number.MIN_SAFE_INTEGER)).filter((o) => inSource(o, types.source));
  const scope: UserScope = await loadScope(db, request.tenantId, request.userId, listed, opts.serviceAddress, types.target);
  const copyHolders = mailbox.scheduling === 'Mms' ? await mailbox.copyHolders([...scope.internal.values()].map((u) => u.id)) : new Set<string>();
  // A meeting written while the user was on a third-party provider carries its dial-in text: recognised and replaced.
  const formerProviders = await loadFormerProviders(db, scope.user);
  const planCtx = { ...planContext(scope), formerProviderBlocks: formerProviders, source: types.source };
  const batchOf = (now: number): BatchContext => ({ scope, correlationId: request.correlationId, scheduling: mailbox.scheduling, copyHolders, formerProviders, now });
  const results: MeetingResult[] = [];
  const size = opts.batchSize ?? 50;
  let stopped = false;

  const recovered = opts.preview ? new Set<string>() : await finishUnrecorded(mailbox, batchOf(opts.now()), size);
  const objects = recovered.size ? listed.filter((o) => !recovered.has(o.uid)) : listed;
  const write = (items: readonly Planned[], now: number) => mailbox.writeBatch(
    request.correlationId,
    () => items.flatMap(({ o, plan: p }) => (p.action === 'Update' ? [{ uid: o.uid, ref: o.ref, payload: intentPayload(p) }] : [])),
    (unit) => writeBatch(unit, batchOf(now), items),
  );

  if (!opts.preview) await opts.onProgress?.({ totalMeeting: listed.length, succeededMeeting: 0, failedMeeting: 0, skippedMeeting: 0, invitesUpdate: 0 });
  // On PostgreSQL the next batch is planned while this one is written: the iCalendar work of one overlaps the other's
  // waits for the server, whose process runs the statements on another core. better-sqlite3 runs them in this thread
  // and a transaction awaits nothing but resolved promises, so there is no wait to fill: the turns only cost (4 %
  // per user measured) and each batch is planned when its turn comes, as before. A plan is made from the objects as
  // listed and written conditionally either way; one left unwritten (a stop) is dropped.
  const planAhead = db.dialect === 'postgres';
  const planAt = (i: number, ahead: boolean): { now: number; items: Promise<Planned[]> } => {
    const now = opts.now();
    const items = planBatch(objects.slice(i, i + size), planCtx, now, ahead);
    items.catch(() => undefined); // awaited below; a write that fails first must not leave it unhandled
    return { now, items };
  };
  let next: ReturnType<typeof planAt> | undefined;
  for (let i = 0; i < objects.length; i += size) {
    // better-sqlite3 answers synchronously, so awaiting it never lets timers and signal handlers run: hand the
    // event loop a turn between batches, or SIGTERM would wait for the whole request (and the lease renewal too).
    await yieldToEventLoop();
    if (opts.shouldStop?.()) {
      stopped = true;
      break;
    }
    const batch = next ?? planAt(i, false);
    next = undefined;
    const { now } = batch;
    const items = await batch.items;
    if (opts.preview) {
      results.push(...items.map(({ o, plan: p }) => resultOf(o, p)));
      continue;
    }
    await opts.beforeWrite?.(items.map((x) => x.o.uid));
    const writing = write(items, now);
    if (planAhead && i + size < objects.length) next = planAt(i + size, true);
    let { conflicts, results: done } = await writing;
    results.push(...done);
    // A meeting edited between the read and the write is read again and planned again: the edit is kept.
    for (let attempt = 1; conflicts.length && attempt <= CONFLICT_RETRIES; attempt++) {
      const reread = await Promise.all(conflicts.map(async (o) => ({ o, now: await mailbox.read(o.ref) })));
      // A conditional write to an object deleted meanwhile may come back as a conflict (If-Match on nothing: 412).
      await recordMeetings(db.kysely, reread.filter((r) => !r.now).map((r) => deletedRow(request, r.o, opts.now())));
      results.push(...reread.filter((r) => !r.now).map((r) => ({ uid: r.o.uid, subject: r.o.summary, start: r.o.firstStart, action: 'Skipped' as const, reason: MEETING_DELETED, attendeesNotified: 0 })));
      const fresh = reread.flatMap((r) => (r.now ? [r.now] : []));
      const at = opts.now();
      ({ conflicts, results: done } = await write(fresh.map((o) => plan(o, planCtx, at)).filter(planned), at));
      results.push(...done);
    }
    if (conflicts.length) {
      const failed: LedgerRow[] = conflicts.map((o) => ({
        correlationId: request.correlationId, tenantId: request.tenantId, userId: request.userId, uid: o.uid, subject: o.summary, startTime: o.firstStart,
        action: 'Failed', reason: `ConcurrentEdit: the meeting kept changing while it was being updated (${CONFLICT_RETRIES + 1} tries); run Start-CsExMeetingMigration again`,
        attendeesNotified: 0, at: opts.now(), versionWritten: null, previousBlock: null,
      }));
      await recordMeetings(db.kysely, failed);
      results.push(...failed.map((f) => ({ uid: f.uid, subject: f.subject, start: f.startTime, action: 'Failed' as const, reason: f.reason, attendeesNotified: 0 })));
    }
    // While running, TotalMeeting is the number of the organizer's objects to look at; at the end, those counted.
    const soFar = await countMeetings(db.kysely, request.correlationId);
    await opts.onProgress?.({ ...soFar, totalMeeting: Math.max(listed.length, soFar.totalMeeting) });
  }
  const counts = opts.preview ? previewCounts(results) : await countMeetings(db.kysely, request.correlationId);
  return { results, counts, stopped };
}

/** The MigrationType recorded on a request; a preview (no request row) or an unknown value migrates to the same type. */
async function migrationTypeOf(db: Db, correlationId: string): Promise<MigrationType> {
  const row = await db.kysely.selectFrom('migration_requests').select('migration_type').where('id', '=', correlationId).executeTakeFirst();
  const t = row?.migration_type as MigrationType | undefined;
  return t !== undefined && MIGRATION_TYPES.includes(t) ? t : 'ToSameType';
}

function previewCounts(results: readonly MeetingResult[]): RequestCounts {
  const n = (a: MeetingResult['action']) => results.filter((r) => r.action === a).length;
  return { totalMeeting: results.length, succeededMeeting: n('Updated') + n('UpToDate'), failedMeeting: n('Failed'), skippedMeeting: n('Skipped'), invitesUpdate: n('Updated') };
}
