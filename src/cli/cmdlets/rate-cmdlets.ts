// Get-MmsMigrationRate (issue 10 §3, the dashboard's chart): meetings migrated per interval over a time window,
// with whether a worker runs — the two things that say whether the queue moves. Read-only.
import { usageError } from '../../domain/errors.js';
import { migratedMeetingsPerBucket } from '../../store/rate-repo.js';
import { workerLiveness } from '../../store/worker-repo.js';
import type { Cmdlet } from '../cmdlet.js';
import { noWorkerText } from '../worker-notice.js';
import { directory, num } from './shared.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** Most buckets one answer holds: a day by the minute, a year by the hour… never an answer of millions of points. */
export const MAX_BUCKETS = 10_000;

export const RATE_CMDLETS: Cmdlet[] = [
  {
    name: 'Get-MmsMigrationRate',
    area: 'Meeting migration',
    synopsis: 'Meetings migrated (rewritten) per interval over a time window (default: the last day, per minute), and whether an mms serve worker runs.',
    params: [
      { name: 'StartTime', type: 'datetime', help: 'From this time (default: a day before -EndTime).' },
      { name: 'EndTime', type: 'datetime', help: 'Up to this time (default: now).' },
      { name: 'IntervalMinutes', type: 'int', help: `Minutes per interval (default 1; at most ${MAX_BUCKETS} intervals in the window).` },
    ],
    examples: ['npx mms Get-MmsMigrationRate', 'npx mms Get-MmsMigrationRate -StartTime 2026-11-01 -EndTime 2026-11-08 -IntervalMinutes 60 --json'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const now = ctx.now();
      const minutes = num(a, 'IntervalMinutes') ?? 1;
      if (!Number.isSafeInteger(minutes) || minutes < 1) throw usageError(`-IntervalMinutes ${minutes} is not a whole number of minutes of 1 or more`);
      const width = minutes * MINUTE_MS;
      // Whole intervals, aligned on the epoch, so that two reads a few seconds apart draw the same bars.
      const endGiven = num(a, 'EndTime');
      const end = Math.ceil((endGiven ?? now) / width) * width;
      const start = Math.floor((num(a, 'StartTime') ?? end - DAY_MS) / width) * width;
      if (start >= end) throw usageError('-StartTime is not before -EndTime: give a window that starts before it ends');
      if ((end - start) / width > MAX_BUCKETS) {
        throw usageError(`the window holds ${Math.ceil((end - start) / width)} intervals of ${minutes} minute(s), more than ${MAX_BUCKETS}: give a larger -IntervalMinutes or a shorter window`);
      }
      const buckets = await migratedMeetingsPerBucket(ctx.db.kysely, tenant.id, start, end, width);
      const { running, lastSeen } = await workerLiveness(ctx.db.kysely, now);
      return {
        kind: 'object',
        value: {
          StartTime: start,
          EndTime: end,
          IntervalMinutes: minutes,
          Total: buckets.reduce((s, b) => s + b.meetings, 0),
          // Intervals without a migrated meeting are left out; the chart draws them as 0.
          Intervals: buckets.map((b) => ({ StartTime: b.start, Meetings: b.meetings })),
          WorkerRunning: running,
          WorkerLastSeenAt: lastSeen,
          WorkerNotice: running ? '' : noWorkerText(lastSeen),
        },
      };
    },
  },
];
