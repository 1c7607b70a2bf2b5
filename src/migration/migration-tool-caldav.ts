// The manual tool run directly against a mailbox on a CalDAV server (Invoke-MmsMeetingMigrationTool -CalDavUrl):
// for a mailbox MMS has no host for, reached with the mailbox's own account. The same listing, planning, If-Match
// writes (an edit made meanwhile is read again and planned again) and marker as a migration; attendees are told the
// one way the server allows: a server that schedules (RFC 6638) delivers the organizer's write itself, otherwise the
// tool writes the RFC 6047 messages for the admin to send, as in file mode.
import { randomUUID } from 'node:crypto';
import { MmsError } from '../domain/errors.js';
import { openMailboxAt, type MeetingObject } from '../mailbox/index.js';
import { addressesOf } from '../meetings/index.js';
import type { Db } from '../store/index.js';
import { loadFormerProviders } from './former-providers.js';
import { toolMessages, toolUser, type ToolMessage } from './migration-tool.js';
import { loadScope, planContext, recipientsOf, resultOf, type MeetingResult } from './migrate-user.js';
import { planMeeting, type MeetingPlan } from './plan-meeting.js';
import { CONFLICT_RETRIES, deletedRow, MEETING_DELETED } from './write-batch.js';

export interface CalDavToolResult {
  readonly correlationId: string;
  readonly results: MeetingResult[];
  readonly messages: ToolMessage[];
  /** The server delivered the updates to attendees itself (calendar-auto-schedule): no messages to send. */
  readonly serverScheduled: boolean;
}

type Update = { o: MeetingObject; plan: Extract<MeetingPlan, { action: 'Update' }> };

export async function runMigrationToolOnCalDav(
  db: Db,
  tenantId: string,
  identity: string,
  at: { url: string; userName: string; password: string },
  opts: { now: () => number; serviceAddress?: string; preview?: boolean },
): Promise<CalDavToolResult> {
  const user = await toolUser(db, tenantId, identity);
  const mailbox = await openMailboxAt(db, tenantId, user.id, at, opts.now);
  const listed = await mailbox.listOrganized(addressesOf(user), Number.MIN_SAFE_INTEGER);
  const scope = await loadScope(db, tenantId, user.id, listed, opts.serviceAddress);
  const ctx = { ...planContext(scope), formerProviderBlocks: await loadFormerProviders(db, scope.user) };
  const correlationId = randomUUID();
  const results: MeetingResult[] = [];
  const messages: ToolMessage[] = [];
  let pending: MeetingObject[] = listed;
  for (let attempt = 0; pending.length && attempt <= CONFLICT_RETRIES; attempt++) {
    const now = opts.now();
    const updates: Update[] = [];
    for (const o of pending) {
      const plan = planMeeting(o, { ...ctx, now });
      if (plan === null) continue;
      if (plan.action === 'Update' && !opts.preview) updates.push({ o, plan });
      else results.push(resultOf(o, plan));
    }
    if (!updates.length) break;
    // No intents: the tool keeps no queue to recover with. Every write is settled on its own, and the messages of
    // every meeting written are built before anything else can fail, so none is written without its messages.
    const outcomes = await mailbox.writeBatch(correlationId, () => [], async (unit) => {
      const out = await unit.replace(updates.map(({ o, plan }) => ({ o, ics: plan.ics })));
      await unit.record(async () => undefined, []);
      return out;
    });
    const conflicts: MeetingObject[] = [];
    for (const { o, plan } of updates) {
      const outcome = outcomes.get(o.ref);
      if (outcome === 'Conflict') conflicts.push(o);
      else if (outcome === 'Gone') results.push({ uid: o.uid, subject: o.summary, start: o.firstStart, action: 'Skipped', reason: MEETING_DELETED, attendeesNotified: 0 });
      else if (outcome instanceof MmsError) {
        const maybe = outcome.code === 'Transient' ? ' (the write may have reached the server: look at the meeting, then run the tool again)' : '';
        results.push({ uid: o.uid, subject: o.summary, start: o.firstStart, action: 'Failed', reason: `WriteFailed: ${outcome.message}${maybe}`, attendeesNotified: 0 });
      } else {
        const mine = mailbox.scheduling === 'Server' ? [] : await toolMessages(scope, o, plan.ics, listed.findIndex((x) => x.uid === o.uid), correlationId, now);
        messages.push(...mine);
        results.push(resultOf(o, plan, mailbox.scheduling === 'Server' ? recipientsOf(scope, o).length : new Set(mine.map((m) => m.recipient)).size));
      }
    }
    const reread = await Promise.all(conflicts.map(async (o) => ({ o, now: await mailbox.read(o.ref) })));
    for (const r of reread.filter((x) => !x.now)) {
      const row = deletedRow({ correlationId, tenantId, userId: user.id }, r.o, opts.now());
      results.push({ uid: row.uid, subject: row.subject, start: row.startTime, action: 'Skipped', reason: row.reason, attendeesNotified: 0 });
    }
    pending = reread.flatMap((x) => (x.now ? [x.now] : []));
    if (attempt === CONFLICT_RETRIES) {
      for (const o of pending) results.push({ uid: o.uid, subject: o.summary, start: o.firstStart, action: 'Failed', reason: `ConcurrentEdit: the meeting kept changing while it was being updated (${CONFLICT_RETRIES + 1} tries); run the tool again`, attendeesNotified: 0 });
    }
  }
  return { correlationId, results, messages, serverScheduled: mailbox.scheduling === 'Server' };
}
