// Issue 8 §3/§4: a crashed SMTP sender must not cost a whole MMS_LEASE. An outbox claim records the sender's
// process (host name, pid, start time, as the migration queue does since issue 7 §2); the next claim takes back at
// once the Sending messages of a process on this host that no longer runs, counting the dead attempt, and leaves
// alone live processes and other hosts' leases (those wait for their expiry). Holders are written into the rows
// directly, as a sender process elsewhere would have; every claim here runs with an hour's lease at one instant,
// so a message taken back was taken before its lease expired.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES, type TestDatabase } from './helpers/databases.js';
import { HOUR, MINUTE, REF, queueFixture, type QueueFixture } from './helpers/queue-fixture.js';
import { claimMail, releaseMail, settleMail } from '../src/store/outbox-send-repo.js';
import { currentHolder, type LeaseHolder } from '../src/store/lease-holder.js';

const MESSAGES = 3;

interface Claimed {
  readonly q: QueueFixture;
  readonly ids: number[];
  setHolder(ids: readonly number[], h: LeaseHolder): Promise<void>;
  rows(): Promise<Array<{ id: number; state: string; lease_owner: string | null; attempts: number; lease_host: string | null; lease_pid: number | null; lease_pid_start: string | null }>>;
}

/** Three queued iMIP messages claimed by sender-a (in this process, with an hour's lease). */
async function withClaimed(database: TestDatabase, fn: (c: Claimed) => Promise<void>): Promise<void> {
  const q = await queueFixture(database, () => REF);
  try {
    const organizerId = await q.userId('amy');
    const msg = await q.db.kysely.insertInto('outbox_messages').values({
      tenant_id: q.tenantId, correlation_id: 'c1', uid: 'm1@contoso.com', from_address: 'amy@contoso.com',
      sender_address: 'mms@contoso.com', subject: 'Planning', ics: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n',
    }).returning('id').executeTakeFirstOrThrow();
    await q.db.kysely.insertInto('outbox').values(Array.from({ length: MESSAGES }, (_, i) => ({
      tenant_id: q.tenantId, correlation_id: 'c1', organizer_id: organizerId, uid: 'm1@contoso.com', recipient: `guest${i}@fabrikam.example`,
      internal: 0, method: 'REQUEST' as const, state: 'Queued' as const, message_id: Number(msg.id), created_at: REF, sent_at: null, last_error: null,
    }))).execute();
    const claimed = await claimMail(q.db, 'sender-a', REF, HOUR, 10);
    assert.deepEqual(claimed.map((m) => m.attempt), [1, 1, 1]);
    const ids = claimed.map((m) => m.id);
    const c: Claimed = {
      q, ids,
      async setHolder(which, h) {
        await q.db.kysely.updateTable('outbox').set({ lease_host: h.host, lease_pid: h.pid, lease_pid_start: h.start }).where('id', 'in', [...which]).execute();
      },
      async rows() {
        const rs = await q.db.kysely.selectFrom('outbox').select(['id', 'state', 'lease_owner', 'attempts', 'lease_host', 'lease_pid', 'lease_pid_start']).orderBy('id').execute();
        return rs.map((r) => ({ ...r, id: Number(r.id), attempts: Number(r.attempts), lease_host: r.lease_host ?? null, lease_pid: r.lease_pid == null ? null : Number(r.lease_pid), lease_pid_start: r.lease_pid_start ?? null }));
      },
    };
    const me = currentHolder();
    for (const r of await c.rows()) {
      assert.deepEqual([r.state, r.lease_owner, r.lease_host, r.lease_pid, r.lease_pid_start], ['Sending', 'sender-a', me.host, me.pid, me.start], 'the claim records this process as the holder');
    }
    await fn(c);
  } finally {
    await q.drop();
  }
}

/** The pid of a process that ran and is gone (reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  assert.ok(pid);
  await new Promise((resolve) => child.once('exit', resolve));
  return pid;
}

/** A running child as a lease holder: its pid and its start time read from /proc, like its own claim would record. */
function liveHolder(child: ChildProcess): LeaseHolder {
  const pid = child.pid;
  assert.ok(pid);
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  const me = currentHolder();
  assert.match(me.start, /^linux:/);
  return { host: me.host, pid, start: me.start.replace(/\d+$/, String(ticks)) };
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: which outbox leases a sender takes back before they expire`, { skip: t.skip || (process.platform !== 'linux' ? 'reads /proc' : undefined) }, () => {
    it('takes the Sending messages of a dead sender on this host at once, counting the dead attempt, and records itself as holder', () =>
      withClaimed(t, async ({ q, ids, setHolder, rows }) => {
        const dead = ids.slice(0, 2);
        await setHolder(dead, { ...currentHolder(), pid: await deadPid() });
        const again = await claimMail(q.db, 'sender-b', REF, HOUR, 10);
        assert.deepEqual(again.map((m) => [m.id, m.attempt]), dead.map((id) => [id, 2]), 'taken back at once, the dead attempt counted');
        const me = currentHolder();
        assert.deepEqual((await rows()).map((r) => [r.id, r.state, r.lease_owner, r.attempts, r.lease_pid, r.lease_pid_start]), [
          [ids[0], 'Sending', 'sender-b', 2, me.pid, me.start],
          [ids[1], 'Sending', 'sender-b', 2, me.pid, me.start],
          [ids[2], 'Sending', 'sender-a', 1, me.pid, me.start], // this very process holds it: left alone
        ]);
        assert.deepEqual(await claimMail(q.db, 'sender-c', REF, HOUR, 10), [], 'the new holder runs: nothing more to take');
      }));

    it('leaves a live sender (same start time) and another host\'s lease alone, and takes a reused pid (another start time)', () =>
      withClaimed(t, async ({ q, ids, setHolder, rows }) => {
        const [liveId, remoteId, reusedId] = ids as [number, number, number];
        const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore' });
        try {
          const live = liveHolder(child);
          await setHolder([liveId], live);
          await setHolder([remoteId], { ...currentHolder(), host: `not-${os.hostname()}`, pid: await deadPid() });
          await setHolder([reusedId], live);
          assert.deepEqual(await claimMail(q.db, 'sender-b', REF, HOUR, 10), [], 'a live holder and a remote lease keep their messages');
          const ticks = Number(live.start.split(':').pop());
          await setHolder([reusedId], { ...live, start: live.start.replace(/\d+$/, String(ticks + 1)) });
          const taken = await claimMail(q.db, 'sender-b', REF, HOUR, 10);
          assert.deepEqual(taken.map((m) => [m.id, m.attempt]), [[reusedId, 2]], 'the pid belongs to another process now: taken back');
          const byId = new Map((await rows()).map((r) => [r.id, r]));
          assert.deepEqual([byId.get(liveId)?.lease_owner, byId.get(liveId)?.lease_pid], ['sender-a', live.pid]);
          assert.deepEqual([byId.get(remoteId)?.lease_owner, byId.get(remoteId)?.lease_host], ['sender-a', `not-${os.hostname()}`]);
          // The remote lease is taken only once it has expired (the lease clock is the database's on PostgreSQL).
          await q.db.kysely.updateTable('outbox').set((eb) => ({ lease_expires_at: eb('lease_expires_at', '-', HOUR + MINUTE) })).where('id', '=', remoteId).execute();
          const expired = await claimMail(q.db, 'sender-c', REF, HOUR, 10);
          assert.deepEqual(expired.map((m) => [m.id, m.attempt]), [[remoteId, 2]]);
        } finally {
          child.kill('SIGKILL');
        }
      }));

    it('clears the holder when the lease ends: a settled message and one given back name no process', () =>
      withClaimed(t, async ({ q, ids, rows }) => {
        const [sentId, releasedId] = ids as [number, number, number];
        assert.equal(await settleMail(q.db, sentId, 'sender-a', { state: 'Sent', reply: '250 OK' }, REF), true);
        await releaseMail(q.db, [releasedId], 'sender-a');
        const byId = new Map((await rows()).map((r) => [r.id, r]));
        assert.deepEqual(Object.values(byId.get(sentId) ?? {}).slice(1), ['Sent', null, 1, null, null, null]);
        assert.deepEqual(Object.values(byId.get(releasedId) ?? {}).slice(1), ['Queued', null, 0, null, null, null]);
      }));
  });
}
