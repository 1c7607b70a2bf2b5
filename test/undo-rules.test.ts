// Undo-MmsMeetingMigration (issue 6 §5): an undo never wedges the user's queue — it runs as a leased request that
// ends whatever happens to single meetings, and one meeting that cannot be restored never stops the rest — and it
// says what it did: it refuses, naming them, to put back values the directory no longer has unless -Force, says
// "already undone" the second time, and writes an audit row every time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { MIGRATION_DELAY_MS as DELAY } from './helpers/directory-fixture.js';
import { HOUR, MINUTE, REF, withQueue, required, type QueueFixture } from './helpers/queue-fixture.js';
import { setDialInUser } from '../src/directory/index.js';
import { undoMigration } from '../src/migration/index.js';
import { openUndoRequest } from '../src/store/queue-repo.js';
import { getTenant } from '../src/store/directory-repo.js';
import type { Tenant } from '../src/domain/directory.js';

const CORRUPT = 'BEGIN:VCALENDAR\r\nthis copy was damaged\r\n';

/** Amy's three meetings migrated after a conference ID reset; returns what the test needs to undo it. */
async function migrated(q: QueueFixture, setClock: (t: number) => void) {
  const uids = await q.schedule('amy', 3);
  const before = await q.organizerCopies('amy');
  const oldId = (await q.db.kysely.selectFrom('users').select('conference_id').where('id', '=', await q.userId('amy')).executeTakeFirstOrThrow()).conference_id;
  const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
  const id = required(change.correlationId, 'a queued request');
  setClock(REF + DELAY);
  assert.equal(await q.worker('worker-1').drain(), 1);
  assert.equal((await q.row(id)).invites_update, 3);
  return { uids, before, id, oldId, newId: change.user.conferenceId };
}

async function undoAudit(q: QueueFixture) {
  return q.db.kysely.selectFrom('audit_log').select(['cmdlet', 'reason', 'correlation_id']).where('cmdlet', '=', 'Undo-MmsMeetingMigration').orderBy('id').execute();
}

/** Puts damaged text in a stored copy without a new version, as a disk or a buggy client might. */
async function damage(q: QueueFixture, name: string, uid: string): Promise<void> {
  await q.db.kysely.updateTable('calendar_objects').set({ ics: CORRUPT }).where('mailbox_user_id', '=', await q.userId(name)).where('uid', '=', uid).execute();
}

for (const database of TEST_DATABASES) {
  describe(`${database.name}: undo says what it did`, { skip: database.skip }, () => {
    it('undo refuses to put back a conference ID the directory no longer has, naming it, and writes nothing but an audit row; -Force restores', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const m = await migrated(q, (x) => (t = x));
        t += HOUR;
        const after = await q.organizerCopies('amy');
        const refused = await q.cli(['Undo-MmsMeetingMigration', m.id]);
        assert.equal(refused.code, 1);
        assert.equal(refused.stderr, `mms: undo of ${m.id} would put back values the directory no longer has: conference ID ${m.oldId} (the directory now has ${m.newId}); change the directory back first, or undo anyway with -Force\n`);
        assert.deepEqual(await q.organizerCopies('amy'), after, 'a refused undo writes no meeting');
        assert.deepEqual((await q.rowsOf('amy')).map((r) => r.id), [m.id], 'a refused undo queues no request');

        const forced = await q.cli(['Undo-MmsMeetingMigration', m.id, '-Force', '--json']);
        assert.equal(forced.code, 0, forced.stderr);
        const out = JSON.parse(forced.stdout) as { CorrelationId: string; Restored: number; LeftAlone: string[]; AlreadyUndone: string[]; Failed: string[]; ForcedPast: string[] };
        assert.deepEqual([out.Restored, out.LeftAlone, out.AlreadyUndone, out.Failed, out.ForcedPast], [3, [], [], [], [`conference ID ${m.oldId} (the directory now has ${m.newId})`]]);
        const copies = await q.organizerCopies('amy');
        for (const uid of m.uids) assert.equal(copies.get(uid)?.ics.replace(/\r\n[ \t]/g, '').includes(m.oldId), true, `${uid} shows the old conference ID again`);
        const undoRow = await q.row(out.CorrelationId);
        assert.deepEqual([undoRow.state, undoRow.lease_owner, undoRow.lease_expires_at, undoRow.invites_update], ['Succeeded', null, null, 3]);
        assert.equal(undoRow.last_message, `undo of ${m.id}: 3 restored, 0 left alone (changed since)`);

        assert.deepEqual((await undoAudit(q)).map((a) => [a.correlation_id, a.reason]), [
          [null, `refused: undo of ${m.id} would put back values the directory no longer has: conference ID ${m.oldId} (the directory now has ${m.newId}); change the directory back first, or undo anyway with -Force`],
          [out.CorrelationId, `${undoRow.last_message}; forced past: conference ID ${m.oldId} (the directory now has ${m.newId})`],
        ]);
      });
    });

    it('undoing twice says already undone, not changed since, and is audited too', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const m = await migrated(q, (x) => (t = x));
        t += HOUR;
        const first = await q.cli(['Undo-MmsMeetingMigration', m.id, '-Force', '--json']);
        assert.equal(first.code, 0, first.stderr);
        const undoId = (JSON.parse(first.stdout) as { CorrelationId: string }).CorrelationId;
        t += MINUTE;
        const again = await q.cli(['Undo-MmsMeetingMigration', m.id, '-Force']);
        assert.equal(again.code, 1);
        assert.equal(again.stderr, `mms: migration ${m.id} was already undone (by ${undoId}); nothing left to restore\n`);
        assert.doesNotMatch(again.stderr, /changed since/);
        const audit = await undoAudit(q);
        assert.equal(audit.length, 2);
        assert.equal(audit[1]?.reason, `refused: migration ${m.id} was already undone (by ${undoId}); nothing left to restore`);
      });
    });
  });

  describe(`${database.name}: undo never wedges the queue`, { skip: database.skip }, () => {
    it('a meeting that cannot be restored is reported and passed over; the undo request ends and the user migrates again', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const m = await migrated(q, (x) => (t = x));
        t += HOUR;
        const [a, b, c] = m.uids;
        await damage(q, 'amy', required(b, 'a second meeting'));
        const undo = await undoMigration(q.db, required(await getTenant(q.db.kysely, q.tenantId), 'the tenant') as Tenant, m.id, { actor: 'admin@contoso.com', now: () => t, force: true });
        assert.deepEqual(undo.meetings.map((r) => [r.uid, r.status]), [[a, 'Restored'], [b, 'Failed'], [c, 'Restored']]);
        assert.match(undo.meetings[1]?.reason ?? '', /^NotRestored: /);
        assert.equal(undo.restored, 2);
        const row = await q.row(undo.correlationId);
        assert.deepEqual([row.state, row.lease_owner, row.lease_expires_at, row.failed_meeting, row.invites_update], ['Failed', null, null, 1, 2]);

        // The user's next migration is not blocked by the undo.
        t += HOUR;
        const next = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        t += DELAY;
        assert.equal(await q.worker('worker-2').drain(), 1);
        assert.equal((await q.row(required(next.correlationId, 'a new request'))).state, 'Succeeded');
      });
    });

    it("an attendee's copy that no longer parses gets the organizer's restored text, and the undo finishes", () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const m = await migrated(q, (x) => (t = x));
        t += HOUR;
        const [a] = m.uids;
        await damage(q, 'ben', required(a, 'a meeting'));
        const r = await q.cli(['Undo-MmsMeetingMigration', m.id, '-Force', '--json']);
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout) as { CorrelationId: string; Restored: number; Failed: string[] };
        assert.deepEqual([out.Restored, out.Failed], [3, []]);
        const ben = await q.organizerCopies('ben');
        const amy = await q.organizerCopies('amy');
        assert.equal(ben.get(required(a, 'a meeting'))?.ics, amy.get(required(a, 'a meeting'))?.ics);
        assert.equal((await q.row(out.CorrelationId)).state, 'Succeeded');
        assert.deepEqual((await q.rowsOf('amy')).filter((x) => x.state === 'InProgress'), []);
      });
    });

    it('an undo whose process died is ended by a worker once its lease expires, and the user migrates again', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const m = await migrated(q, (x) => (t = x));
        t += HOUR;
        const undoId = '00000000-0000-4000-8000-000000000001';
        assert.equal(typeof await openUndoRequest(q.db, { id: undoId, tenantId: q.tenantId, userId: await q.userId('amy'), migrationType: 'ToSameType', reason: `Undo:${m.id}` }, 'undo:dead', t, MINUTE), 'number', 'the undo request is opened');
        const next = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        t += DELAY;
        const worker = q.worker('worker-2');
        assert.equal(await worker.runOnce(), false, 'the live undo holds the user');
        await q.ageLeases(2 * MINUTE);
        assert.equal(await worker.drain(), 2);
        const undoRow = await q.row(undoId);
        assert.deepEqual([undoRow.state, undoRow.lease_owner, undoRow.last_message], ['Failed', null, 'the undo stopped before it finished (its process ended); run Undo-MmsMeetingMigration again to restore the rest']);
        assert.equal((await q.row(required(next.correlationId, 'a new request'))).state, 'Succeeded');
      });
    });
  });
}
