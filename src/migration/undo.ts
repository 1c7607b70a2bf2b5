import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Tenant, User } from '../domain/directory.js';
import { conflict, MmsError, notFound } from '../domain/errors.js';
import { parseBlock, renderBlock } from '../domain/meeting-block/index.js';
import { BuiltinMailboxStore, VersionConflict } from '../mailbox/index.js';
import type { Db } from '../store/index.js';
import { insertAudit } from '../store/audit-repo.js';
import { listBridges, userFromRow, usersByAddress } from '../store/directory-repo.js';
import { copyDamageOf, countMeetings, recordCopyDamage, recordMeetings, restoredBy, type CopyDamageRow } from '../store/ledger-repo.js';
import { recordNotifications, type Notification } from '../store/outbox-repo.js';
import { getUserMailbox } from '../store/mailbox-host-repo.js';
import { endAttempt, finishRequest, openUndoRequest, renewLease } from '../store/queue-repo.js';
import { writeTransaction } from '../store/transaction.js';
import { addressesOf, blockInputFor } from '../meetings/index.js';
import { announce } from './announce.js';
import { replaceDamagedCopy } from './damaged-copy.js';
import { restoreMeeting, type PreviousBlock } from './rewrite-meeting.js';
import { UNDO_REASON_PREFIX } from './worker.js';
import { resolveCorrelationId } from './resolve-correlation-id.js';

/** What undo did to one meeting. */
export interface UndoMeetingResult {
  readonly uid: string;
  readonly subject: string;
  readonly status: 'Restored' | 'AlreadyUndone' | 'ChangedSince' | 'Failed';
  readonly reason: string;
}

export interface UndoResult {
  readonly correlationId: string;
  readonly restored: number;
  /** Meetings changed since the migration (or deleted), left alone. */
  readonly leftAlone: ReadonlyArray<{ uid: string; subject: string; reason: string }>;
  /** Every meeting of the migration and what undo did to it. */
  readonly meetings: readonly UndoMeetingResult[];
  /** Values the restored blocks show that the directory no longer has (restored because of `force`). */
  readonly differences: readonly string[];
}

export interface UndoContext {
  readonly actor: string;
  readonly now: () => number;
  readonly serviceAddress?: string;
  /** Restore even blocks that show values the directory no longer has (-Force). */
  readonly force?: boolean;
  readonly leaseMs?: number;
}

const CHANGED_SINCE = 'changed since the migration (or deleted); left alone';

/** Join link without its meeting id: where the user's meetings are hosted. */
const linkBase = (url: string | null): string | null => (url ? url.split(/[?#]/)[0]!.replace(/\/[^/]*\/?$/, '') : null);

/**
 * The values the blocks to restore show that the directory no longer gives the user: conference ID, dial-in
 * numbers and where meetings are joined — each named with what the directory has now.
 */
function staleValues(user: User, tenant: Tenant, bridges: Parameters<typeof blockInputFor>[2], previous: readonly PreviousBlock[]): string[] {
  const input = blockInputFor(user, tenant, bridges, 'MMSUNDOSTANDIN');
  const now = parseBlock(renderBlock(input).text);
  const base = linkBase(input.joinUrl);
  const out = new Set<string>();
  for (const components of previous) {
    for (const c of components) {
      if (c.text === null) continue;
      const was = parseBlock(c.text);
      if (was.conferenceId && was.conferenceId !== now.conferenceId) out.add(`conference ID ${was.conferenceId} (the directory now has ${now.conferenceId ?? 'none'})`);
      for (const n of was.numbers) if (!now.numbers.includes(n)) out.add(`dial-in number ${n} (not the user's now)`);
      const wasBase = linkBase(c.joinUrl ?? was.joinUrl);
      if (wasBase && base && wasBase !== base) out.add(`join link ${wasBase}/… (the directory now has ${base}/…)`);
    }
  }
  return [...out];
}

/**
 * Undo-MmsMeetingMigration: puts back the blocks a migration wrote, in the organizer's and the internal
 * attendees' copies, and announces the change again. A meeting changed since that migration is left alone and
 * reported; one undone before is reported as already undone. When the blocks to restore show values the
 * directory no longer has (a conference ID changed since), it refuses, naming each, unless `force`.
 *
 * The undo runs as a request of its own (TriggerReasons `Undo:<id>`) under a lease, like a claimed migration:
 * it ends Succeeded or Failed whatever happens to single meetings (each is its own transaction, and one that
 * fails is recorded and passed over), and if the process dies a worker ends it once the lease expires — the
 * user's migrations are never blocked by it. Every undo, refused ones included, writes an audit row.
 */
export async function undoMigration(db: Db, tenant: Tenant, given: string, ctx: UndoContext): Promise<UndoResult> {
  // The whole GUID or an unambiguous prefix of it (issue 9 §3); from here on, the whole one.
  const correlationId = await resolveCorrelationId(db, tenant, given);
  const request = await db.kysely.selectFrom('migration_requests').selectAll().where('id', '=', correlationId).where('tenant_id', '=', tenant.id).executeTakeFirst();
  if (!request) throw notFound(`no migration ${correlationId} in tenant ${tenant.name}: Get-CsMeetingMigrationStatus lists CorrelationIds`);
  if (request.state === 'Pending' || request.state === 'InProgress') throw conflict(`migration ${correlationId} is ${request.state}; wait until it ends, then undo it`);
  const user = userFromRow(await db.kysely.selectFrom('users').selectAll().where('id', '=', request.user_id).executeTakeFirstOrThrow());
  const rows = await db.kysely.selectFrom('migration_meetings').selectAll()
    .where('correlation_id', '=', correlationId).where('action', '=', 'Updated').orderBy('id').execute();
  const audit = (undoId: string | null, reason: string) => insertAudit(db.kysely, {
    tenantId: tenant.id, at: ctx.now(), actor: ctx.actor, cmdlet: 'Undo-MmsMeetingMigration', userId: user.id, target: user.upn,
    changes: {}, decision: 'None', reason, correlationId: undoId,
  });

  // Undo reads and writes the built-in store; a mailbox on a calendar server has no version counter for its check
  // ("changed since the migration") yet, so undo refuses it rather than guess.
  const host = await getUserMailbox(db.kysely, user.id);
  if (host) {
    await audit(null, 'refused: the mailbox is on a mailbox host');
    throw conflict(`the mailbox of ${user.upn} is on a mailbox host (CalDAV); Undo-MmsMeetingMigration works on the built-in store only: restore the meetings from the calendar server's backup, or run the migration again after fixing the directory`);
  }

  // Look first, write nothing: which meetings were undone already, which changed since, what the rest would show.
  const undone = await restoredBy(db.kysely, user.id, `${UNDO_REASON_PREFIX}${correlationId}`);
  const reader = new BuiltinMailboxStore(db.kysely, tenant.id, ctx.now);
  const results = new Map<string, UndoMeetingResult>();
  const todo: typeof rows = [];
  // One read of every meeting not yet undone (restoreOne reads each again inside its write transaction).
  const stored = new Map((await reader.getMany(rows.filter((r) => !undone.has(r.uid)).map((r) => ({ mailboxUserId: user.id, uid: r.uid })))).map((o) => [o.uid, o]));
  for (const row of rows) {
    const by = undone.get(row.uid);
    const current = stored.get(row.uid);
    if (by) results.set(row.uid, { uid: row.uid, subject: row.subject, status: 'AlreadyUndone', reason: `already undone by ${by}; left alone` });
    else if (!current || current.version !== row.version_written) results.set(row.uid, { uid: row.uid, subject: row.subject, status: 'ChangedSince', reason: CHANGED_SINCE });
    else todo.push(row);
  }
  if (rows.length && !todo.length && undone.size) {
    const msg = `migration ${correlationId} was already undone (by ${[...new Set(undone.values())].join(', ')}); nothing left to restore`;
    await audit(null, `refused: ${msg}`);
    throw conflict(msg);
  }
  const differences = staleValues(user, tenant, await listBridges(db.kysely, tenant.id), todo.map((r) => JSON.parse(r.previous_block ?? '[]') as PreviousBlock));
  if (differences.length && !ctx.force) {
    const msg = `undo of ${correlationId} would put back values the directory no longer has: ${differences.join('; ')}; change the directory back first, or undo anyway with -Force`;
    await audit(null, `refused: ${msg}`);
    throw conflict(msg);
  }

  const undoId = randomUUID();
  const owner = `undo:${os.hostname()}:${process.pid}:${undoId.slice(0, 8)}`;
  const leaseMs = ctx.leaseMs ?? 60_000;
  const attemptId = await openUndoRequest(db, { id: undoId, tenantId: tenant.id, userId: user.id, migrationType: request.migration_type, reason: `${UNDO_REASON_PREFIX}${correlationId}` }, owner, ctx.now(), leaseMs);
  if (attemptId === null) throw conflict(`a migration of ${user.upn} is running; wait until it ends (Get-CsMeetingMigrationStatus), then undo ${correlationId}`);

  const sender = ctx.serviceAddress || `mms@${tenant.domains[0]}`;
  let restored = 0;
  let state: 'Succeeded' | 'Failed' = 'Failed';
  let lastMessage = `undo of ${correlationId} stopped: `;
  const damaged = await copyDamageOf(db.kysely, correlationId);
  try {
    for (const row of todo) {
      let outcome: string | null;
      try {
        outcome = await restoreOne(db, tenant, user, row, undoId, correlationId, sender, ctx.now, damaged);
      } catch (err) {
        if (err instanceof MmsError && err.code === 'Transient') throw err;
        // One bad meeting (an object that no longer parses, …) never stops the rest.
        const reason = `NotRestored: ${(err as Error).message ?? String(err)}`;
        results.set(row.uid, { uid: row.uid, subject: row.subject, status: 'Failed', reason });
        await recordMeetings(db.kysely, [{
          correlationId: undoId, tenantId: tenant.id, userId: user.id, uid: row.uid, subject: row.subject, startTime: row.start_time,
          action: 'Failed', reason, attendeesNotified: 0, at: ctx.now(), versionWritten: null, previousBlock: null,
        }]);
        continue;
      }
      if (outcome) {
        results.set(row.uid, { uid: row.uid, subject: row.subject, status: 'ChangedSince', reason: outcome });
      } else {
        restored++;
        results.set(row.uid, { uid: row.uid, subject: row.subject, status: 'Restored', reason: `restored the block replaced by ${correlationId}` });
      }
      await renewLease(db, undoId, owner, ctx.now(), leaseMs);
    }
    for (const r of results.values()) {
      if (r.status !== 'ChangedSince' && r.status !== 'AlreadyUndone') continue;
      const row = rows.find((x) => x.uid === r.uid)!;
      await recordMeetings(db.kysely, [{
        correlationId: undoId, tenantId: tenant.id, userId: user.id, uid: row.uid, subject: row.subject, startTime: row.start_time,
        action: 'Skipped', reason: `NotRestored: ${r.reason}`, attendeesNotified: 0, at: ctx.now(), versionWritten: null, previousBlock: null,
      }]);
    }
    const n = (s: UndoMeetingResult['status']) => [...results.values()].filter((r) => r.status === s).length;
    const extra = [n('AlreadyUndone') ? `, ${n('AlreadyUndone')} already undone` : '', n('Failed') ? `, ${n('Failed')} failed (Get-CsMeetingMigrationTransactionHistory says why)` : ''].join('');
    lastMessage = `undo of ${correlationId}: ${restored} restored, ${n('ChangedSince')} left alone (changed since)${extra}`;
    state = n('Failed') ? 'Failed' : 'Succeeded';
  } catch (err) {
    lastMessage += (err as Error).message ?? String(err);
    throw err;
  } finally {
    // Whatever happened, the request ends here and lets go of its lease: the user's migrations run again.
    const counts = await countMeetings(db.kysely, undoId);
    await finishRequest(db, undoId, owner, { state, lastMessage, counts }, ctx.now());
    await endAttempt(db, attemptId, state, ctx.now());
    // The audit row says what was forced past: the values the restored blocks show that the directory has not.
    await audit(undoId, differences.length ? `${lastMessage}; forced past: ${differences.join('; ')}` : lastMessage);
  }
  const meetings = rows.map((r) => results.get(r.uid)!);
  return {
    correlationId: undoId,
    restored,
    leftAlone: meetings.filter((m) => m.status === 'ChangedSince').map((m) => ({ uid: m.uid, subject: m.subject, reason: m.reason })),
    meetings,
    differences,
  };
}

type LedgerRecord = { uid: string; subject: string; start_time: number | null; version_written: number | null; previous_block: string | null };

/** Restores one meeting in one transaction; a reason when it was left alone, null when restored. */
async function restoreOne(
  db: Db, tenant: Tenant, user: User, row: LedgerRecord, undoId: string, correlationId: string, sender: string, now: () => number,
  damaged: Awaited<ReturnType<typeof copyDamageOf>>,
): Promise<string | null> {
  const previous = JSON.parse(row.previous_block ?? '[]') as PreviousBlock;
  return writeTransaction(db, async (tx) => {
    const store = new BuiltinMailboxStore(tx, tenant.id, now);
    const current = await store.get(user.id, row.uid);
    if (!current || current.version !== row.version_written) return CHANGED_SINCE;
    const back = restoreMeeting(current.ics, previous);
    try {
      await store.replaceText(user.id, row.uid, back, current.version);
    } catch (err) {
      if (err instanceof VersionConflict) return 'changed while being restored; left alone';
      throw err;
    }
    const recipients: Notification[] = [];
    const damage: CopyDamageRow[] = [];
    const mine = new Set(addressesOf(user));
    const known = await usersByAddress(tx, tenant.id, current.attendees);
    for (const address of current.attendees) {
      if (mine.has(address)) continue;
      const attendee = known.get(address);
      if (attendee && attendee.mailboxLocation === 'Online') {
        const copy = await store.get(attendee.id, row.uid);
        if (copy) {
          const next = restoredCopy(copy.ics, back, previous, attendee, damaged.get(`${row.uid}\u0000${attendee.id}`), copy.version, correlationId);
          if (next.ics !== null) await store.replaceText(attendee.id, row.uid, next.ics, copy.version);
          if (next.reason) {
            damage.push({
              correlationId: undoId, tenantId: tenant.id, userId: user.id, uid: row.uid, subject: row.subject, startTime: row.start_time, attendeeId: attendee.id,
              attendee: attendee.upn, reason: next.reason, damagedIcs: copy.ics, versionWritten: next.ics === null ? null : copy.version + 1, at: now(),
            });
          }
        }
        recipients.push({ recipient: address, internal: true });
      } else {
        recipients.push({ recipient: address, internal: false });
      }
    }
    await recordCopyDamage(tx, damage);
    const told = announce(back, recipients, { tenantId: tenant.id, correlationId: undoId, organizerId: user.id, uid: row.uid, subject: current.summary, from: user.upn, sender, now: now() });
    await recordNotifications(tx, [told]);
    await recordMeetings(tx, [{
      correlationId: undoId, tenantId: tenant.id, userId: user.id, uid: row.uid, subject: row.subject, startTime: row.start_time,
      action: 'Restored', reason: `restored the block replaced by ${correlationId}`, attendeesNotified: told.recipients.length, at: now(), versionWritten: current.version + 1, previousBlock: null,
    }]);
    return null;
  });
}

/**
 * An attendee's copy with the old block back (`reason` null), or — never silently — what happened to a damaged
 * one (`reason` for its history row). The rule (damaged-copy.ts) for undo: a copy the migration replaced because
 * it no longer parsed, still as the migration wrote it, gets its damaged text back exactly (it had the old block
 * then too; nothing the attendee had is lost); a copy that no longer parses now is replaced by the organizer's
 * restored text carrying over the attendee's readable PARTSTAT and alarms, its damaged text kept.
 */
function restoredCopy(
  ics: string, organizerIcs: string, previous: PreviousBlock, attendee: User,
  replaced: { damagedIcs: string; versionWritten: number | null } | undefined, version: number, correlationId: string,
): { ics: string | null; reason: string | null } {
  if (replaced && replaced.versionWritten === version) {
    return { ics: replaced.damagedIcs, reason: `AttendeeCopyPutBack: ${attendee.upn}'s copy, replaced by ${correlationId} because it no longer parsed, has its own text back as it was (it still does not parse; the attendee or their client must repair it)` };
  }
  try {
    return { ics: restoreMeeting(ics, previous), reason: null };
  } catch (err) {
    if (!(err instanceof MmsError)) throw err;
    return replaceDamagedCopy(ics, organizerIcs, attendee.upn, addressesOf(attendee), err.message, 'undo');
  }
}
