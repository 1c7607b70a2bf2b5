import type { User } from '../domain/directory.js';
import type { MeetingType } from '../domain/migration.js';
import { MmsError } from '../domain/errors.js';
import { copyKey, type MeetingObject, type Scheduling, type WriteOutcome, type WriteUnit } from '../mailbox/index.js';
import { addressesOf } from '../meetings/index.js';
import { recordCopyDamage, recordMeetings, type LedgerRow } from '../store/ledger-repo.js';
import { recordNotifications, type MeetingNotifications } from '../store/outbox-repo.js';
import type { Tx } from '../store/transaction.js';
import { announce } from './announce.js';
import { replaceDamagedCopy } from './damaged-copy.js';
import type { FormerProvider } from '../domain/meeting-block/index.js';
import { rewriteFormerProvider } from './former-providers.js';
import type { MeetingPlan } from './plan-meeting.js';
import { rewriteMeeting, type BlockRenderer, type RewriteMemo } from './rewrite-meeting.js';
import { recipientsOf, resultOf, type MeetingResult, type UserScope } from './user-scope.js';

export const CONFLICT_RETRIES = 5;

/** What a batch needs besides its meetings: the organizer's world and who tells the attendees. */
export interface BatchContext {
  readonly scope: UserScope;
  readonly correlationId: string;
  readonly scheduling: Scheduling;
  /** Internal attendees whose own copies MMS updates in the organizer's store (empty when the server schedules). */
  readonly copyHolders: ReadonlySet<string>;
  /** Third-party providers the organizer was on before: an attendee's copy carrying one's text gets the block too. */
  readonly formerProviders?: readonly FormerProvider[];
  readonly now: number;
}

/** A planned meeting; `memo` is what its plan decided, for rewriting its attendees' copies alike (rewriteMeeting). */
export type Planned = { readonly o: MeetingObject; readonly plan: MeetingPlan; readonly memo?: RewriteMemo };
type Update = Planned & { readonly plan: Extract<MeetingPlan, { action: 'Update' }> };
const isUpdate = (x: Planned): x is Update => x.plan.action === 'Update';

/** A damaged attendee copy found while writing a batch: recorded with the batch. */
interface CopyDamage {
  readonly attendee: User;
  readonly o: MeetingObject;
  readonly damaged: string;
  readonly reason: string;
  /** The copy's version the replacement wrote; null when the copy was left as it is (or the store has no counter). */
  readonly versionWritten: number | null;
}

export const MEETING_DELETED = 'MeetingDeleted: the meeting was deleted while it was being updated; nothing left to update';

/** The ledger row of a meeting deleted between its listing and its write: recorded, not an error. */
export function deletedRow(who: { correlationId: string; tenantId: string; userId: string }, o: MeetingObject, at: number): LedgerRow {
  return {
    ...who, uid: o.uid, subject: o.summary, startTime: o.firstStart, at, action: 'Skipped', reason: MEETING_DELETED, attendeesNotified: 0, versionWritten: null, previousBlock: null,
  };
}

/** The meeting's type before and after, for the ledger (issue 12): an update says both, anything else keeps its type. */
function typesOf(o: MeetingObject, plan: MeetingPlan): { meetingType: MeetingType | null; newMeetingType: MeetingType | null } {
  if (plan.action === 'Update' && plan.meetingType !== undefined) return { meetingType: plan.meetingTypeBefore ?? null, newMeetingType: plan.meetingType };
  return { meetingType: o.meetingType, newMeetingType: o.meetingType };
}

/** The type a written object has now, for a store that keeps it beside the text: given only when it changes. */
const newType = (plan: Extract<MeetingPlan, { action: 'Update' }>): { meetingType?: MeetingType } =>
  (plan.meetingType !== undefined && plan.meetingType !== plan.meetingTypeBefore ? { meetingType: plan.meetingType } : {});

/** An attendee's rewritten copy holds the organizer's new block, so it has the type the update gives. */
const copyTypeOf = (plan: Extract<MeetingPlan, { action: 'Update' }>): { meetingType?: MeetingType } => (plan.meetingType !== undefined ? { meetingType: plan.meetingType } : {});

/** What undo needs of a written meeting, kept in a remote store's intent until the ledger row is recorded. */
export type UpdateRecord = Omit<Extract<MeetingPlan, { action: 'Update' }>, 'action' | 'ics'>;
export const intentPayload = (plan: Extract<MeetingPlan, { action: 'Update' }>): string => {
  const { action: _a, ics: _i, ...rest } = plan;
  return JSON.stringify(rest);
};

/**
 * An attendee's rewritten copy (changed components stamped `now`); null when it is already current or has no
 * block. A copy that no longer parses is replaced by the organizer's new text with the attendee's readable
 * PARTSTAT and alarms carried over, or left alone when even that fails — never silently: `damage` says why (the
 * rule is in damaged-copy.ts).
 */
function rewriteCopy(ics: string, organizerIcs: string, render: BlockRenderer, now: number, attendee: User, third: { former: readonly FormerProvider[]; meetingId: string | null }, memo?: RewriteMemo): { ics: string | null; damage?: string } {
  try {
    const r = rewriteMeeting(ics, render, now, memo);
    if (r.kind === 'NoBlock' && third.former.length) {
      // A meeting from the organizer's third-party provider days: the attendee's copy holds the provider's text.
      return { ics: rewriteFormerProvider(ics, render, third.former, { now, meetingId: third.meetingId })?.ics ?? null };
    }
    return { ics: r.kind === 'Rewritten' ? r.ics : null };
  } catch (err) {
    if (!(err instanceof MmsError)) throw err;
    const out = replaceDamagedCopy(ics, organizerIcs, attendee.upn, addressesOf(attendee), err.message);
    return { ics: out.ics, damage: out.reason };
  }
}

/** The internal attendees (other than the organizer) whose own copy MMS updates, each once. */
function copyUsers(ctx: BatchContext, o: MeetingObject): User[] {
  const seen = new Map<string, User>();
  for (const address of o.attendees) {
    const u = ctx.scope.internal.get(address);
    if (u && ctx.copyHolders.has(u.id) && u.id !== ctx.scope.user.id) seen.set(u.id, u);
  }
  return [...seen.values()];
}

/** The next text of an attendee's copy: the organizer's new text when the copy is the organizer's old one. */
function nextCopy(ctx: BatchContext, o: MeetingObject, newIcs: string, copy: MeetingObject, attendee: User, memo?: RewriteMemo): { ics: string | null; damage?: string } {
  if (copy.ics === newIcs) return { ics: null };
  const third = { former: ctx.formerProviders ?? [], meetingId: o.onlineMeetingId === null ? o.uid : null };
  return copy.ics === o.ics ? { ics: newIcs } : rewriteCopy(copy.ics, newIcs, ctx.scope.render(o), ctx.now, attendee, third, memo);
}

/** An attendee MMS could not give the update through their copy: they are sent iMIP instead. */
type Undelivered = { readonly undelivered: true };
const UNDELIVERED: Undelivered = { undelivered: true };

/** One attendee's copy, read again and rewritten until it holds (a copy the attendee keeps changing fails the batch). */
async function updateOneCopy(unit: WriteUnit, ctx: BatchContext, attendee: User, o: MeetingObject, newIcs: string, copyType: { meetingType?: MeetingType } = {}, memo?: RewriteMemo): Promise<CopyDamage | Undelivered | null> {
  for (let attempt = 0; ; attempt++) {
    const copy = (await unit.readCopies([{ userId: attendee.id, uid: o.uid }], { fresh: true })).get(copyKey(attendee.id, o.uid));
    if (!copy) {
      const created = await unit.createCopy(attendee.id, o.uid, newIcs);
      if (created === 'Created') return null;
      if (created === 'NoCalendar') return UNDELIVERED;
    } else {
      const next = nextCopy(ctx, o, newIcs, copy, attendee, memo);
      const damage = (versionWritten: number | null): CopyDamage | null => (next.damage ? { attendee, o, damaged: copy.ics, reason: next.damage, versionWritten } : null);
      if (next.ics === null) return damage(null);
      if ((await unit.replaceCopies([{ userId: attendee.id, copy, ics: next.ics, ...copyType }])).size) return damage(unit.versionAfter(copy));
    }
    if (attempt >= CONFLICT_RETRIES) throw new MmsError('Transient', `the copy of ${o.uid} in ${attendee.upn}'s mailbox kept changing while it was being updated; retried later`);
  }
}

/** A failure that concerns one attendee's mailbox only (refused, not found): that attendee is mailed instead. */
const attendeeOnly = (err: unknown): boolean => err instanceof MmsError && err.code !== 'Transient';

/**
 * Updates internal attendees' own copies (their PARTSTAT, alarms and personal properties stay): bulk first, then one
 * by one. Returns the damaged copies found and the (attendee, meeting) pairs whose copy could not be updated (no
 * calendar, or their mailbox refused us): those attendees get iMIP, so each is told exactly one way.
 */
async function updateCopies(unit: WriteUnit, ctx: BatchContext, changed: readonly Update[]): Promise<{ damages: CopyDamage[]; undelivered: Set<string> }> {
  const damages: CopyDamage[] = [];
  const undelivered = new Set<string>();
  const wanted = changed.flatMap(({ o }) => copyUsers(ctx, o).map((u) => ({ userId: u.id, uid: o.uid })));
  if (!wanted.length) return { damages, undelivered };
  let copies: Map<string, MeetingObject>;
  try {
    copies = await unit.readCopies(wanted);
  } catch (err) {
    if (!attendeeOnly(err)) throw err;
    copies = new Map(); // one attendee's mailbox refused the bulk read: go one by one, so only theirs is left out
  }
  const writes: Array<{ userId: string; copy: MeetingObject; ics: string; attendee: User; u: Update; damage?: string; meetingType?: MeetingType }> = [];
  const slow: Array<{ attendee: User; u: Update }> = [];
  for (const u of changed) {
    for (const attendee of copyUsers(ctx, u.o)) {
      const copy = copies.get(copyKey(attendee.id, u.o.uid));
      if (!copy) {
        slow.push({ attendee, u });
        continue;
      }
      const next = nextCopy(ctx, u.o, u.plan.ics, copy, attendee, u.memo);
      if (next.ics !== null) writes.push({ userId: attendee.id, copy, ics: next.ics, attendee, u, damage: next.damage, ...copyTypeOf(u.plan) });
      else if (next.damage) damages.push({ attendee, o: u.o, damaged: copy.ics, reason: next.damage, versionWritten: null });
    }
  }
  let written = new Set<string>();
  try {
    written = await unit.replaceCopies(writes);
  } catch (err) {
    if (!attendeeOnly(err)) throw err;
  }
  for (const w of writes) {
    if (!written.has(copyKey(w.userId, w.copy.uid))) {
      // The attendee changed their copy between our read and our write (or the bulk write failed): one by one.
      slow.push({ attendee: w.attendee, u: w.u });
    } else if (w.damage) {
      damages.push({ attendee: w.attendee, o: w.u.o, damaged: w.copy.ics, reason: w.damage, versionWritten: unit.versionAfter(w.copy) });
    }
  }
  for (const { attendee, u } of slow) {
    try {
      const d = await updateOneCopy(unit, ctx, attendee, u.o, u.plan.ics, copyTypeOf(u.plan), u.memo);
      if (d && 'undelivered' in d) undelivered.add(copyKey(attendee.id, u.o.uid));
      else if (d) damages.push(d);
    } catch (err) {
      if (!attendeeOnly(err)) throw err;
      undelivered.add(copyKey(attendee.id, u.o.uid));
    }
  }
  return { damages, undelivered };
}

/**
 * Writes one planned batch through the store's unit: each changed meeting's organizer object (conditional on the
 * version read), its internal attendees' copies when MMS schedules, then — with the writes (built-in: one
 * transaction) or right after them (remote: the intents make it recoverable) — its notifications and ledger row.
 * `written` finishes meetings an earlier attempt wrote but never recorded. Returns the meetings that changed
 * meanwhile (to plan again).
 */
export async function writeBatch(unit: WriteUnit, ctx: BatchContext, items: readonly Planned[], opts: { written?: boolean } = {}): Promise<{ conflicts: MeetingObject[]; results: MeetingResult[] }> {
  const { scope, correlationId, now } = ctx;
  const updates = items.filter(isUpdate);
  const outcomes: Map<string, WriteOutcome> = opts.written ? new Map(updates.map((u) => [u.o.ref, 'Written' as const])) : await unit.replace(updates.map(({ o, plan }) => ({ o, ics: plan.ics, ...newType(plan) })));
  const outcomeOf = (o: MeetingObject) => outcomes.get(o.ref);
  const changed = updates.filter((u) => outcomeOf(u.o) === 'Written');
  // A write that failed for a reason worth retrying may still have landed: its intent stays for the next attempt.
  const retry = updates.flatMap((u) => { const x = outcomeOf(u.o); return x instanceof MmsError && x.code === 'Transient' ? [x] : []; });
  const { damages, undelivered } = ctx.scheduling === 'Mms' ? await updateCopies(unit, ctx, changed) : { damages: [], undelivered: new Set<string>() };

  const told = (o: MeetingObject) => (u: User) => ctx.copyHolders.has(u.id) && !undelivered.has(copyKey(u.id, o.uid));
  const notifications: MeetingNotifications[] = ctx.scheduling === 'Mms'
    ? changed.map(({ o, plan }) => announce(plan.ics, recipientsOf(scope, o, told(o)), {
      tenantId: scope.tenant.id, correlationId, organizerId: scope.user.id, uid: o.uid, subject: o.summary, from: scope.from, sender: scope.sender, now,
    }))
    : [];
  // When the server schedules, it tells every attendee of the organizer's write; MMS sends nothing.
  const notified = new Map(ctx.scheduling === 'Mms'
    ? notifications.map((n) => [n.uid, n.recipients.length])
    : changed.map(({ o }) => [o.uid, recipientsOf(scope, o).length]));
  const results: MeetingResult[] = [];
  const ledger: LedgerRow[] = [];
  for (const { o, plan } of items) {
    const outcome = plan.action === 'Update' ? outcomeOf(o) : undefined;
    if (outcome === 'Conflict' || (outcome instanceof MmsError && outcome.code === 'Transient')) continue;
    if (outcome instanceof MmsError) {
      const reason = `WriteRefused: ${outcome.message}`;
      results.push({ uid: o.uid, subject: o.summary, start: o.firstStart, action: 'Failed', reason, attendeesNotified: 0 });
      ledger.push({ correlationId, tenantId: scope.tenant.id, userId: scope.user.id, uid: o.uid, subject: o.summary, startTime: o.firstStart, at: now, action: 'Failed', reason, attendeesNotified: 0, versionWritten: null, previousBlock: null });
      continue;
    }
    if (outcome === 'Gone') {
      results.push({ uid: o.uid, subject: o.summary, start: o.firstStart, action: 'Skipped', reason: MEETING_DELETED, attendeesNotified: 0 });
      ledger.push(deletedRow({ correlationId, tenantId: scope.tenant.id, userId: scope.user.id }, o, now));
      continue;
    }
    const r = resultOf(o, plan, notified.get(o.uid) ?? 0);
    results.push(r);
    ledger.push({
      correlationId, tenantId: scope.tenant.id, userId: scope.user.id, uid: o.uid, subject: o.summary, startTime: o.firstStart, at: now, action: r.action, reason: r.reason, attendeesNotified: r.attendeesNotified,
      versionWritten: plan.action === 'Update' ? (opts.written ? null : unit.versionAfter(o)) : null,
      previousBlock: plan.action === 'Update' ? JSON.stringify(plan.previous) : null,
      ...typesOf(o, plan),
    });
  }
  await unit.record(async (tx: Tx) => {
    await recordCopyDamage(tx, damages.map((d) => ({
      correlationId, tenantId: scope.tenant.id, userId: scope.user.id, uid: d.o.uid, subject: d.o.summary, startTime: d.o.firstStart,
      attendeeId: d.attendee.id, attendee: d.attendee.upn, reason: d.reason, damagedIcs: d.damaged, versionWritten: d.versionWritten, at: now,
    })));
    await recordNotifications(tx, notifications);
    await recordMeetings(tx, ledger);
  }, items.filter(({ o }) => { const x = outcomeOf(o); return !(x instanceof MmsError && x.code === 'Transient'); }).map(({ o }) => o.uid));
  // The rest of the batch is recorded; the request is tried again for what failed on the way (its writes recovered).
  if (retry[0]) throw retry[0];
  return { conflicts: updates.filter((u) => outcomes.get(u.o.ref) === 'Conflict').map((u) => u.o), results };
}
