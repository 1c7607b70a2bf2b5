import { blockFingerprint, renderBlock } from '../domain/meeting-block/index.js';
import { meetingIdOf } from '../domain/online-meeting.js';
import { effectiveTimeZone, type Bridge, type Tenant, type User } from '../domain/directory.js';
import { MmsError, notFound } from '../domain/errors.js';
import { BuiltinMailboxStore, VersionConflict, type StoredObject } from '../mailbox/index.js';
import { addressesOf, blockInputFor } from '../meetings/index.js';
import type { Db } from '../store/index.js';
import { getTenant, listBridges, userFromRow, usersByAddress } from '../store/directory-repo.js';
import { countMeetings, recordCopyDamage, recordMeetings, type LedgerRow } from '../store/ledger-repo.js';
import { recordNotifications, type MeetingNotifications, type Notification } from '../store/outbox-repo.js';
import { writeTransaction, type Tx } from '../store/transaction.js';
import type { RequestCounts } from '../store/queue-repo.js';
import { announce } from './announce.js';
import { replaceDamagedCopy } from './damaged-copy.js';
import { planMeeting, type MeetingPlan } from './plan-meeting.js';
import { hasOnlineMeetingBlock, rewriteMeeting, type BlockRenderer } from './rewrite-meeting.js';

/** What happened (or, in a preview, would happen) to one meeting. */
export interface MeetingResult {
  readonly uid: string;
  readonly subject: string;
  readonly start: number | null;
  readonly action: 'Updated' | 'Skipped' | 'Failed' | 'UpToDate';
  readonly reason: string;
  readonly attendeesNotified: number;
  readonly oldBlock?: string;
  readonly newBlock?: string;
}

export interface MigrateOptions {
  readonly db: Db;
  readonly now: () => number;
  /** The mailbox that sends updates on the organizer's behalf; default mms@<primary domain>. */
  readonly serviceAddress?: string;
  /** Meetings written per transaction. */
  readonly batchSize?: number;
  /** -WhatIf: plan every meeting, write nothing. */
  readonly preview?: boolean;
  /** Called after each batch with the counts so far (progress, lease renewal). */
  readonly onProgress?: (counts: RequestCounts) => Promise<void> | void;
  /** Stops between batches (SIGTERM, lost lease); the request is then given back, not finished. */
  readonly shouldStop?: () => boolean;
  /** Tests: runs after a batch is planned and before it is written (to make a concurrent edit happen). */
  readonly beforeWrite?: (uids: readonly string[]) => Promise<void>;
}

const CONFLICT_RETRIES = 5;

/** One turn of the event loop (see the batch loop). */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const MEETING_ID_TOKEN = 'MMSMEETINGIDSTANDIN';

/** One organizer's world for a migration: directory, block renderer, who is internal, From and Sender. */
export interface UserScope {
  readonly tenant: Tenant;
  readonly user: User;
  readonly bridges: readonly Bridge[];
  readonly internal: ReadonlyMap<string, User>;
  readonly render: (o: StoredObject) => BlockRenderer;
  readonly from: string;
  readonly sender: string;
}

/**
 * Reads what migrating `userId`'s meetings needs (tenant, user, bridges, the internal users among the objects'
 * attendees) and builds the per-user block renderer. The engine and the manual tool share it.
 */
export async function loadScope(db: Db, tenantId: string, userId: string, objects: readonly StoredObject[], serviceAddress?: string): Promise<UserScope> {
  const tenant = await getTenant(db.kysely, tenantId);
  if (!tenant) throw notFound(`tenant ${tenantId} no longer exists`);
  const row = await db.kysely.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!row) throw notFound(`user ${userId} no longer exists; nothing to migrate`);
  const user = userFromRow(row);
  const bridges = await listBridges(db.kysely, tenantId);
  const internal = await usersByAddress(db.kysely, tenantId, objects.flatMap((o) => o.attendees));
  // A user's blocks differ only by the meeting id: render once per shared-notes link with a stand-in id and
  // put each meeting's id in (ids of plain letters and digits only, so no escaping can differ).
  const templates = new Map<string, ReturnType<BlockRenderer>>();
  const render = (o: StoredObject): BlockRenderer => (notes) => {
    const id = meetingIdOf(o.onlineMeetingId ?? o.uid);
    const full = () => {
      const input = blockInputFor(user, tenant, bridges, id, notes);
      return { ...renderBlock(input), joinUrl: input.joinUrl };
    };
    if (!/^[A-Za-z0-9]+$/.test(id)) return full();
    let tpl = templates.get(notes ?? '');
    if (!tpl) {
      const input = blockInputFor(user, tenant, bridges, MEETING_ID_TOKEN, notes);
      tpl = { ...renderBlock(input), joinUrl: input.joinUrl };
      templates.set(notes ?? '', tpl);
    }
    const put = (s: string) => s.split(MEETING_ID_TOKEN).join(id);
    const text = put(tpl.text);
    return { text, html: put(tpl.html), conferences: tpl.conferences.map((c) => ({ ...c, uri: put(c.uri) })), fingerprint: blockFingerprint(text), joinUrl: put(tpl.joinUrl) };
  };
  return { tenant, user, bridges, internal, render, from: user.upn, sender: serviceAddress || `mms@${tenant.domains[0]}` };
}

/** What the history says about one planned meeting (the engine's ledger and the manual tool print the same). */
export function resultOf(o: StoredObject, plan: MeetingPlan, notified = 0): MeetingResult {
  const base = { uid: o.uid, subject: o.summary, start: o.firstStart, attendeesNotified: notified };
  if (plan.action === 'Skipped') return { ...base, action: 'Skipped', reason: `${plan.reason}: ${plan.detail}` };
  if (plan.action === 'UpToDate') return { ...base, action: 'UpToDate', reason: 'the block is already current; not rewritten, nobody notified' };
  return {
    ...base,
    action: 'Updated',
    reason: (plan.edited ? 'EditedBlockOverwritten: the organizer had edited the block; the old block is kept in the history for undo' : 'BlockReplaced') + (plan.note ? `; ${plan.note}` : ''),
    oldBlock: plan.oldBlock,
    newBlock: plan.newBlock,
  };
}

/** A damaged attendee copy found while writing a batch: recorded in the same transaction as the batch. */
interface CopyDamage {
  readonly attendee: User;
  readonly o: StoredObject;
  readonly damaged: string;
  readonly reason: string;
  /** The copy's version the replacement wrote; null when the copy was left as it is. */
  readonly versionWritten: number | null;
}

/**
 * An attendee's rewritten copy (changed components stamped `now`); null when it is already current or has no
 * block. A copy that no longer parses is replaced by the organizer's new text with the attendee's readable
 * PARTSTAT and alarms carried over, or left alone when even that fails — never silently: `damage` says why (the
 * rule is in damaged-copy.ts).
 */
function rewriteCopy(ics: string, organizerIcs: string, render: BlockRenderer, now: number, attendee: User): { ics: string | null; damage?: string } {
  try {
    const r = rewriteMeeting(ics, render, now);
    return { ics: r.kind === 'Rewritten' ? r.ics : null };
  } catch (err) {
    if (!(err instanceof MmsError)) throw err;
    const out = replaceDamagedCopy(ics, organizerIcs, attendee.upn, addressesOf(attendee), err.message);
    return { ics: out.ics, damage: out.reason };
  }
}

/**
 * Updates an internal attendee's own copy in place (their PARTSTAT, alarms and personal properties stay).
 * Returns the damage found when their copy no longer parsed, else null.
 */
async function updateAttendeeCopy(store: BuiltinMailboxStore, attendee: User, o: StoredObject, newIcs: string, render: BlockRenderer, now: number): Promise<CopyDamage | null> {
  for (let attempt = 0; ; attempt++) {
    const copy = await store.get(attendee.id, o.uid);
    if (!copy) {
      await store.put(attendee.id, newIcs);
      return null;
    }
    // A copy nobody has touched is the organizer's old text: its new text is the organizer's new text.
    const next = copy.ics === o.ics ? { ics: newIcs } : rewriteCopy(copy.ics, newIcs, render, now, attendee);
    const damage = (versionWritten: number | null): CopyDamage | null => (next.damage ? { attendee, o, damaged: copy.ics, reason: next.damage, versionWritten } : null);
    if (next.ics === null) return damage(null);
    try {
      await store.replaceText(attendee.id, o.uid, next.ics, copy.version);
      return damage(copy.version + 1);
    } catch (err) {
      if (!(err instanceof VersionConflict) || attempt >= CONFLICT_RETRIES) throw err;
    }
  }
}

/**
 * Writes one planned batch in one transaction: each changed meeting's organizer copy (conditional on the version
 * read), its internal attendees' copies, its notifications and its ledger row commit together — so a worker
 * killed at any instant leaves each meeting either untouched or changed and announced exactly once. A handful of
 * statements per batch, not per meeting. Returns the meetings whose organizer copy changed meanwhile (to plan
 * again).
 */
async function writeBatch(tx: Tx, scope: UserScope, correlationId: string, items: ReadonlyArray<{ o: StoredObject; plan: MeetingPlan }>, now: number): Promise<{ conflicts: StoredObject[]; results: MeetingResult[] }> {
  const store = new BuiltinMailboxStore(tx, scope.tenant.id, () => now);
  const updates = items.filter((x): x is { o: StoredObject; plan: Extract<MeetingPlan, { action: 'Update' }> } => x.plan.action === 'Update');
  const written = await store.replaceMany(updates.map(({ o, plan }) => ({ id: o.id, ifVersion: o.version, ics: plan.ics })));
  const conflicts = updates.filter(({ o }) => !written.has(o.id)).map(({ o }) => o);
  const changed = updates.filter(({ o }) => written.has(o.id));

  // Internal attendees' own copies: read together, rewritten (or given the organizer's new text when untouched).
  const wanted = changed.flatMap(({ o }) => attendeeUsers(scope, o).map((u) => ({ mailboxUserId: u.id, uid: o.uid })));
  const copies = new Map((await store.getMany(wanted)).map((c) => [`${c.mailboxUserId}\u0000${c.uid}`, c]));
  const copyWrites: Array<{ id: number; ifVersion: number; ics: string }> = [];
  const slow: Array<{ attendee: User; o: StoredObject; ics: string }> = [];
  const damages: CopyDamage[] = [];
  const damageOf = new Map<number, Omit<CopyDamage, 'versionWritten'>>();
  for (const { o, plan } of changed) {
    for (const attendee of attendeeUsers(scope, o)) {
      const copy = copies.get(`${attendee.id}\u0000${o.uid}`);
      if (!copy) {
        slow.push({ attendee, o, ics: plan.ics });
        continue;
      }
      const next = copy.ics === o.ics ? { ics: plan.ics } : rewriteCopy(copy.ics, plan.ics, scope.render(o), now, attendee);
      if (next.damage) damageOf.set(copy.id, { attendee, o, damaged: copy.ics, reason: next.damage });
      if (next.ics !== null) copyWrites.push({ id: copy.id, ifVersion: copy.version, ics: next.ics });
      else if (next.damage) damages.push({ attendee, o, damaged: copy.ics, reason: next.damage, versionWritten: null });
    }
  }
  const copiesWritten = await store.replaceMany(copyWrites);
  for (const { attendee, o, ics } of slow) {
    const d = await updateAttendeeCopy(store, attendee, o, ics, scope.render(o), now);
    if (d) damages.push(d);
  }
  for (const w of copyWrites) {
    if (copiesWritten.has(w.id)) {
      const d = damageOf.get(w.id);
      if (d) damages.push({ ...d, versionWritten: w.ifVersion + 1 });
      continue;
    }
    // The attendee changed their copy between our read and our write (PostgreSQL only: SQLite holds the lock).
    const copy = [...copies.values()].find((c) => c.id === w.id) as StoredObject;
    const meeting = changed.find(({ o }) => o.uid === copy.uid) as (typeof changed)[number];
    const d = await updateAttendeeCopy(store, attendeeUsers(scope, meeting.o).find((u) => u.id === copy.mailboxUserId) as User, meeting.o, meeting.plan.ics, scope.render(meeting.o), now);
    if (d) damages.push(d);
  }
  await recordCopyDamage(tx, damages.map((d) => ({
    correlationId, tenantId: scope.tenant.id, userId: scope.user.id, uid: d.o.uid, subject: d.o.summary, startTime: d.o.firstStart,
    attendeeId: d.attendee.id, attendee: d.attendee.upn, reason: d.reason, damagedIcs: d.damaged, versionWritten: d.versionWritten, at: now,
  })));

  const notifications: MeetingNotifications[] = changed.map(({ o, plan }) => announce(plan.ics, recipientsOf(scope, o), {
    tenantId: scope.tenant.id, correlationId, organizerId: scope.user.id, uid: o.uid, subject: o.summary, from: scope.from, sender: scope.sender, now,
  }));
  await recordNotifications(tx, notifications);

  const notified = new Map(notifications.map((n) => [n.uid, n.recipients.length]));
  const results: MeetingResult[] = [];
  const ledger: LedgerRow[] = [];
  for (const { o, plan } of items) {
    if (plan.action === 'Update' && !written.has(o.id)) continue;
    const r = resultOf(o, plan, notified.get(o.uid) ?? 0);
    results.push(r);
    ledger.push({
      correlationId, tenantId: scope.tenant.id, userId: scope.user.id, uid: o.uid, subject: o.summary, startTime: o.firstStart,
      action: r.action, reason: r.reason, attendeesNotified: r.attendeesNotified, at: now,
      versionWritten: plan.action === 'Update' ? o.version + 1 : null,
      previousBlock: plan.action === 'Update' ? JSON.stringify(plan.previous) : null,
    });
  }
  await recordMeetings(tx, ledger);
  return { conflicts, results };
}

/** The internal attendees (other than the organizer) whose own mailbox MMS updates, each once. */
function attendeeUsers(scope: UserScope, o: StoredObject): User[] {
  const seen = new Map<string, User>();
  for (const address of o.attendees) {
    const u = scope.internal.get(address);
    if (u && u.mailboxLocation === 'Online' && u.id !== scope.user.id) seen.set(u.id, u);
  }
  return [...seen.values()];
}

/** Who is told about a changed meeting: every attendee address but the organizer's own. */
export function recipientsOf(scope: UserScope, o: StoredObject): Notification[] {
  return [...new Set(o.attendees)].flatMap((address) => {
    const u = scope.internal.get(address);
    if (u?.id === scope.user.id) return [];
    return [{ recipient: address, internal: Boolean(u && u.mailboxLocation === 'Online') }];
  });
}

/** What planMeeting needs besides the clock, from a user's scope (the tenant's limits, the renderer, the zone). */
export function planContext(scope: UserScope) {
  return {
    maxAttendees: scope.tenant.settings.maxMeetingAttendees,
    preserveEdited: scope.tenant.settings.preserveEditedBlocks,
    render: scope.render,
    hasBlock: hasOnlineMeetingBlock,
    timeZone: effectiveTimeZone(scope.user, scope.tenant),
  };
}

/**
 * Migrates one user's meetings: builds the target block from the directory as it is now, finds every meeting
 * the user organized, replaces only the block in the future ones (skipping, with a recorded reason, past ones,
 * copied blocks, oversized meetings, unparseable objects and — if the tenant says so — edited blocks), writes
 * each conditionally and announces it to every attendee. Running it again touches only what is left.
 */
export async function migrateUser(
  opts: MigrateOptions,
  request: { correlationId: string; tenantId: string; userId: string },
): Promise<{ results: MeetingResult[]; counts: RequestCounts; stopped: boolean }> {
  const { db } = opts;
  const row = await db.kysely.selectFrom('users').select(['id', 'upn', 'sip_address', 'mailbox_location']).where('id', '=', request.userId).executeTakeFirst();
  if (!row) throw notFound(`user ${request.userId} no longer exists; nothing to migrate`);
  if (row.mailbox_location !== 'Online') {
    throw new MmsError('Conflict', `the mailbox of ${row.upn} is on-premises, out of MMS's reach: use manual migration (Invoke-MmsMeetingMigrationTool, the Meeting Migration Tool) or move the mailbox online, then run Start-CsExMeetingMigration`);
  }
  const reader = new BuiltinMailboxStore(db.kysely, request.tenantId, opts.now);
  const addresses = [row.upn, row.sip_address.replace(/^sip:/, '')];
  const objects = await reader.listOrganized(request.userId, addresses, Number.MIN_SAFE_INTEGER);
  const scope = await loadScope(db, request.tenantId, request.userId, objects, opts.serviceAddress);
  const planCtx = planContext(scope);
  const results: MeetingResult[] = [];
  const size = opts.batchSize ?? 50;
  let stopped = false;

  if (!opts.preview) await opts.onProgress?.({ totalMeeting: objects.length, succeededMeeting: 0, failedMeeting: 0, skippedMeeting: 0, invitesUpdate: 0 });
  for (let i = 0; i < objects.length; i += size) {
    // better-sqlite3 answers synchronously, so awaiting it never lets timers and signal handlers run: hand the
    // event loop a turn between batches, or SIGTERM would wait for the whole request (and the lease renewal too).
    await yieldToEventLoop();
    if (opts.shouldStop?.()) {
      stopped = true;
      break;
    }
    const now = opts.now();
    const items = objects.slice(i, i + size)
      .map((o) => ({ o, plan: planMeeting(o, { ...planCtx, now }) }))
      .filter((x): x is { o: StoredObject; plan: MeetingPlan } => x.plan !== null);
    if (opts.preview) {
      results.push(...items.map(({ o, plan }) => resultOf(o, plan)));
      continue;
    }
    await opts.beforeWrite?.(items.map((x) => x.o.uid));
    let { conflicts, results: done } = await writeTransaction(db, (tx) => writeBatch(tx, scope, request.correlationId, items, now));
    results.push(...done);
    // A meeting edited between the read and the write is read again and planned again: the edit is kept.
    for (let attempt = 1; conflicts.length && attempt <= CONFLICT_RETRIES; attempt++) {
      const fresh = (await Promise.all(conflicts.map((o) => reader.get(request.userId, o.uid)))).filter((o): o is StoredObject => !!o);
      const again = fresh.map((o) => ({ o, plan: planMeeting(o, { ...planCtx, now: opts.now() }) })).filter((x): x is { o: StoredObject; plan: MeetingPlan } => x.plan !== null);
      ({ conflicts, results: done } = await writeTransaction(db, (tx) => writeBatch(tx, scope, request.correlationId, again, opts.now())));
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
    await opts.onProgress?.({ ...soFar, totalMeeting: Math.max(objects.length, soFar.totalMeeting) });
  }
  const counts = opts.preview ? previewCounts(results) : await countMeetings(db.kysely, request.correlationId);
  return { results, counts, stopped };
}

function previewCounts(results: readonly MeetingResult[]): RequestCounts {
  const n = (a: MeetingResult['action']) => results.filter((r) => r.action === a).length;
  return { totalMeeting: results.length, succeededMeeting: n('Updated') + n('UpToDate'), failedMeeting: n('Failed'), skippedMeeting: n('Skipped'), invitesUpdate: n('Updated') };
}
