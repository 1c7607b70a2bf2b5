// The checks of the CalDAV crash test (caldav-crash.test.ts) that read the database and Radicale: what must hold
// after a worker was killed at any instant (recoverable: recorded with everything written, or not recorded and
// findable again), and the small readers they share with the test.
import assert from 'node:assert/strict';
import type { Db } from '../../src/store/index.js';
import type { DavObjectText, DavWorld } from './caldav-world.js';
import { descriptionOf, digitRuns, personalOf, unfold } from './world.js';

export const key = (upn: string, uid: string) => `${upn}\u0000${uid}`;
export const markerOf = (ics: string) => /^X-MMS-MIGRATION(?:;[^:\r\n]*)?:([^\r\n]*)$/im.exec(unfold(ics))?.[1]?.trim() ?? null;
/** The DESCRIPTION as an independent parser reads it; the server's %2C in tel: URIs are no part of it. */
export const descOf = (o: DavObjectText) => descriptionOf(o.ics);

export async function requestRow(db: Db, id: string) {
  return db.kysely.selectFrom('migration_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function updatedCount(db: Db, correlationId: string): Promise<number> {
  const r = await db.kysely.selectFrom('migration_meetings').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('correlation_id', '=', correlationId).where('action', '=', 'Updated').executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * With no worker running: the database (one snapshot, read first: on PostgreSQL a killed worker's last COMMIT may
 * still land) and then Radicale agree that every meeting is recorded with everything written, or not recorded and
 * recoverable. Returns how many meetings the ledger has as Updated.
 */
export async function assertRecoverable(dav: DavWorld, correlationId: string, newId: string, when: string): Promise<{ recorded: number; writtenOnly: number }> {
  const { db } = dav.world;
  const snap = await db.kysely.transaction().setIsolationLevel('repeatable read').execute(async (k) => ({
    ledger: await k.selectFrom('migration_meetings').select(['uid', 'action', 'attendees_notified']).where('correlation_id', '=', correlationId).execute(),
    outbox: await k.selectFrom('outbox').select(['uid', 'recipient', 'internal', 'state', 'message_id']).where('correlation_id', '=', correlationId).execute(),
    intents: await k.selectFrom('write_intents').select(['uid', 'correlation_id', 'marker']).execute(),
    messages: Number((await k.selectFrom('outbox_messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n),
    used: Number((await k.selectFrom('outbox').select((eb) => eb.fn.count<number>('message_id').distinct().as('n')).executeTakeFirstOrThrow()).n),
  }));
  const objects = await dav.allObjects();
  const uids = new Set(dav.world.meetings.map((m) => m.uid));
  for (const r of snap.ledger) assert.ok(uids.has(r.uid), `${when}: a ledger row for an unknown meeting ${r.uid}`);
  for (const i of snap.intents) assert.equal(i.correlation_id, correlationId, `${when}: an intent of another request (${i.correlation_id}) is left`);
  let recorded = 0;
  let writtenOnly = 0;
  for (const m of dav.world.meetings) {
    const at = `${when}: meeting ${m.uid}`;
    const org = objects.get(key(m.organizer, m.uid));
    assert.ok(org, `${at}: the organizer's object is gone from Radicale`);
    const written = digitRuns(descOf(org), newId) > 0;
    const rows = snap.ledger.filter((r) => r.uid === m.uid);
    const sent = snap.outbox.filter((r) => r.uid === m.uid);
    const intentRow = snap.intents.find((i) => i.uid === m.uid);
    const intent = intentRow !== undefined;
    assert.ok(rows.length <= 1, `${at}: ${rows.length} ledger rows`);
    // Each write carries its intent's own marker (new per intent): a written object always has one.
    if (written) assert.ok(markerOf(org.ics), `${at}: the organizer's object has the new block but no marker`);
    for (const a of m.internal) {
      const copy = objects.get(key(a, m.uid));
      assert.ok(copy, `${at}: ${a}'s copy is gone from Radicale`);
      const copyWritten = digitRuns(descOf(copy), newId) > 0;
      assert.ok(!copyWritten || written, `${at}: ${a}'s copy has the new block while the organizer's object has not`);
      if (rows.length) assert.ok(copyWritten, `${at}: recorded (ledger ${rows[0]?.action}) but ${a}'s copy lacks the new block:\n${descOf(copy)}`);
      assert.deepEqual(personalOf(copy.ics, a), m.personal.get(a), `${at}: ${a}'s own response, reminder and category`);
    }
    if (rows.length) {
      recorded++;
      assert.deepEqual(rows.map((r) => [r.action, Number(r.attendees_notified)]), [['Updated', m.internal.length + m.external.length]], `${at}: ledger row`);
      assert.ok(written, `${at}: a ledger row (Updated) but the organizer's object on Radicale lacks the new block (ledger without write):\n${descOf(org)}`);
      assert.equal(sent.length, m.internal.length + m.external.length, `${at}: ${sent.length} outbox rows for ${m.internal.length + m.external.length} attendees: ${JSON.stringify(sent)}`);
      assert.deepEqual(sent.map((r) => r.recipient).sort(), [...m.internal, ...m.external].sort(), `${at}: outbox recipients`);
      for (const r of sent) {
        const internal = m.internal.includes(r.recipient);
        assert.equal(Number(r.internal), internal ? 1 : 0, `${at}: ${r.recipient} internal flag`);
        assert.equal(r.state, internal ? 'Applied' : 'Queued', `${at}: ${r.recipient} outbox state`);
      }
      const messages = new Set(sent.filter((r) => !Number(r.internal)).map((r) => r.message_id));
      assert.equal(messages.size, 1, `${at}: the external attendees share ${messages.size} iMIP messages, expected one`);
      assert.ok(!intent, `${at}: recorded, yet its intent is still there`);
    } else {
      assert.deepEqual(sent, [], `${at}: notifications without a ledger row`);
      if (written) writtenOnly++;
      if (written) assert.ok(intent, `${at}: the organizer's object was written (marker ${markerOf(org.ics)}) but there is neither a ledger row nor an intent: no attempt will ever record it`);
      if (written) assert.equal(markerOf(org.ics), intentRow?.marker, `${at}: written but not recorded, and the object does not carry its intent's marker: the next attempt would not know it wrote it`);
    }
  }
  assert.equal(snap.messages, snap.used, `${when}: ${snap.messages} iMIP messages stored, ${snap.used} referenced by the outbox`);
  return { recorded, writtenOnly };
}
