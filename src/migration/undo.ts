import { randomUUID } from 'node:crypto';
import { itipRequest } from '../ical/index.js';
import type { Tenant } from '../domain/directory.js';
import { MmsError, notFound } from '../domain/errors.js';
import { BuiltinMailboxStore, VersionConflict } from '../mailbox/index.js';
import type { Db } from '../store/index.js';
import { userFromRow, usersByAddress } from '../store/directory-repo.js';
import { countMeetings, recordMeetings } from '../store/ledger-repo.js';
import { recordNotifications, type Notification } from '../store/outbox-repo.js';
import { writeTransaction } from '../store/transaction.js';
import { addressesOf } from '../meetings/index.js';
import { restoreMeeting, type PreviousBlock } from './rewrite-meeting.js';

export interface UndoResult {
  readonly correlationId: string;
  readonly restored: number;
  readonly leftAlone: ReadonlyArray<{ uid: string; subject: string; reason: string }>;
}

/**
 * Undo-MmsMeetingMigration: puts back the blocks a migration wrote, in the organizer's and the internal
 * attendees' copies, and announces the change again. A meeting changed since that migration is left alone and
 * reported. The undo is itself recorded as a request (TriggerReasons `Undo:<id>`), with a ledger row per meeting.
 */
export async function undoMigration(db: Db, tenant: Tenant, correlationId: string, ctx: { actor: string; now: () => number; serviceAddress?: string }): Promise<UndoResult> {
  const request = await db.kysely.selectFrom('migration_requests').selectAll().where('id', '=', correlationId).where('tenant_id', '=', tenant.id).executeTakeFirst();
  if (!request) throw notFound(`no migration ${correlationId} in tenant ${tenant.name}: Get-CsMeetingMigrationStatus lists CorrelationIds`);
  if (request.state === 'Pending' || request.state === 'InProgress') throw new MmsError('Conflict', `migration ${correlationId} is ${request.state}; wait until it ends, then undo it`);
  const user = userFromRow(await db.kysely.selectFrom('users').selectAll().where('id', '=', request.user_id).executeTakeFirstOrThrow());
  const rows = await db.kysely.selectFrom('migration_meetings').selectAll()
    .where('correlation_id', '=', correlationId).where('action', '=', 'Updated').orderBy('id').execute();
  const undoId = randomUUID();
  const now = ctx.now();
  await db.kysely.insertInto('migration_requests').values({
    id: undoId, tenant_id: tenant.id, user_id: user.id, state: 'InProgress', migration_type: request.migration_type,
    trigger_reasons: JSON.stringify([`Undo:${correlationId}`]), create_date: now, modified_date: now, not_before: now, retry_count: 0,
    total_meeting: 0, succeeded_meeting: 0, failed_meeting: 0, skipped_meeting: 0, invites_update: 0, last_message: '', lease_owner: null, lease_expires_at: null,
  }).execute();
  const sender = ctx.serviceAddress || `mms@${tenant.domains[0]}`;
  const leftAlone: Array<{ uid: string; subject: string; reason: string }> = [];
  let restored = 0;
  for (const row of rows) {
    const previous = JSON.parse(row.previous_block ?? '[]') as PreviousBlock;
    const outcome = await writeTransaction(db, async (tx) => {
      const store = new BuiltinMailboxStore(tx, tenant.id, ctx.now);
      const current = await store.get(user.id, row.uid);
      if (!current || current.version !== row.version_written) return 'changed since the migration (or deleted); left alone';
      const back = restoreMeeting(current.ics, previous);
      try {
        await store.replaceText(user.id, row.uid, back, current.version);
      } catch (err) {
        if (err instanceof VersionConflict) return 'changed while being restored; left alone';
        throw err;
      }
      const recipients: Notification[] = [];
      const mine = new Set(addressesOf(user));
      const known = await usersByAddress(tx, tenant.id, current.attendees);
      for (const address of current.attendees) {
        if (mine.has(address)) continue;
        const attendee = known.get(address);
        if (attendee && attendee.mailboxLocation === 'Online') {
          const copy = await store.get(attendee.id, row.uid);
          if (copy) await store.replaceText(attendee.id, row.uid, restoreMeeting(copy.ics, previous), copy.version);
          recipients.push({ recipient: address, internal: true });
        } else {
          recipients.push({ recipient: address, internal: false });
        }
      }
      await recordNotifications(tx, [{
        tenantId: tenant.id, correlationId: undoId, organizerId: user.id, uid: row.uid, now: ctx.now(), recipients,
        message: recipients.some((r) => !r.internal) ? { from: user.upn, sender, subject: current.summary, ics: itipRequest(back, { sentBy: sender, dtstamp: ctx.now() }) } : null,
      }]);
      await recordMeetings(tx, [{
        correlationId: undoId, tenantId: tenant.id, userId: user.id, uid: row.uid, subject: row.subject, startTime: row.start_time,
        action: 'Restored', reason: `restored the block replaced by ${correlationId}`, attendeesNotified: recipients.length, at: ctx.now(), versionWritten: current.version + 1, previousBlock: null,
      }]);
      return null;
    });
    if (outcome) {
      leftAlone.push({ uid: row.uid, subject: row.subject, reason: outcome });
      await recordMeetings(db.kysely, [{
        correlationId: undoId, tenantId: tenant.id, userId: user.id, uid: row.uid, subject: row.subject, startTime: row.start_time,
        action: 'Skipped', reason: `NotRestored: ${outcome}`, attendeesNotified: 0, at: ctx.now(), versionWritten: null, previousBlock: null,
      }]);
    } else {
      restored++;
    }
  }
  const counts = await countMeetings(db.kysely, undoId);
  await db.kysely.updateTable('migration_requests').set({
    state: 'Succeeded', modified_date: ctx.now(), last_message: `undo of ${correlationId}: ${restored} restored, ${leftAlone.length} left alone (changed since)`,
    total_meeting: counts.totalMeeting, succeeded_meeting: counts.succeededMeeting, failed_meeting: counts.failedMeeting, skipped_meeting: counts.skippedMeeting, invites_update: counts.invitesUpdate,
  }).where('id', '=', undoId).execute();
  return { correlationId: undoId, restored, leftAlone };
}
