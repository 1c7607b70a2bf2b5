// An idle worker's sleep and stop(): a stop that lands while the worker reads the queue, before its sleep begins,
// must still end the wait. Seen in CI: `mms serve` on PostgreSQL logged "stopping", then "worker idle" for the
// whole poll interval, and did not exit within 20 s of SIGTERM (the interrupt found no sleep yet to end).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IdleWait } from '../src/migration/idle-wait.js';
import { TEST_DATABASES } from './helpers/databases.js';

const TEN_MINUTES = 600_000;

for (const t of TEST_DATABASES) {
  describe(`${t.name}: an idle worker's wait`, { skip: t.skip }, () => {
    // The test's own timeout is the failure: before the fix the sleep took the whole ten-minute poll interval.
    it('ends at once when stop() came while the queue was being read, before the sleep began', { timeout: 60_000 }, async () => {
      const { db, drop } = await t.fresh();
      try {
        const sleeps: number[] = [];
        const idle = new IdleWait(db, Date.now, TEN_MINUTES, (ms) => sleeps.push(ms));
        let checks = 0;
        // The first look (at the top of the wait) says running; stop() arrives during the queue read that follows.
        const stopping = () => checks++ > 0;
        await idle.sleep(Date.now(), idle.mark, stopping);
        assert.deepEqual(sleeps, [], 'no sleep began after the stop');
        assert.ok(checks >= 2, 'the wait looked at the stop flag again after reading the queue');
      } finally {
        await db.close();
        await drop();
      }
    });

    it('sleeps the poll interval when nobody stops it, and ends when stop() interrupts the sleep', { timeout: 60_000 }, async () => {
      const { db, drop } = await t.fresh();
      try {
        const sleeps: number[] = [];
        let began!: () => void;
        const sleeping = new Promise<void>((resolve) => (began = resolve));
        const idle = new IdleWait(db, Date.now, TEN_MINUTES, (ms) => {
          sleeps.push(ms);
          began();
        });
        let stop = false;
        const done = idle.sleep(Date.now(), idle.mark, () => stop);
        await sleeping;
        assert.ok(idle.idle, 'asleep');
        stop = true;
        idle.interrupt();
        await done;
        assert.equal(sleeps.length, 1);
        assert.ok((sleeps[0] as number) > TEN_MINUTES - 60_000, `it meant to sleep the poll interval, not ${sleeps[0]} ms`);
      } finally {
        await db.close();
        await drop();
      }
    });
  });
}
