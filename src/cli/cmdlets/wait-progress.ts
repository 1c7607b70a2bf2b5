import { MigrationWorker } from '../../migration/index.js';
import { getRequest } from '../../store/queue-repo.js';
import type { CmdletContext } from '../cmdlet.js';

const quiet = { info() {}, warn() {}, error() {} };

function bar(done: number, total: number, width = 30): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/**
 * -Wait: follows the given requests to their end. A request no worker has taken yet is run right here (a lease
 * keeps a running `mms serve` from taking it twice), so -Wait also works with no service running. Progress is a
 * bar on a terminal and a plain line per change otherwise.
 */
export async function waitForRequests(ctx: CmdletContext, ids: readonly string[]): Promise<void> {
  const worker = new MigrationWorker({ db: ctx.db, logger: quiet, now: ctx.now, workerId: `mms-cli:${process.pid}`, serviceAddress: ctx.config.serviceAddress || undefined });
  let last = '';
  const show = async (): Promise<boolean> => {
    let open = false;
    for (const id of ids) {
      const r = await getRequest(ctx.db, id);
      if (!r) continue;
      const done = r.succeededMeeting + r.failedMeeting + r.skippedMeeting;
      const line = `${r.state.padEnd(10)} ${bar(done, r.totalMeeting)} ${done}/${r.totalMeeting} meetings  ${id.slice(0, 8)}`;
      if (r.state === 'Pending' || r.state === 'InProgress') open = true;
      if (line !== last) {
        ctx.stdout.write(ctx.isTty ? `\r${line}` : `${line}\n`);
        last = line;
      }
    }
    return open;
  };
  const timer = setInterval(() => void show().catch(() => undefined), 250);
  try {
    while (await show()) {
      if (!(await worker.runOnce(ids))) await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    clearInterval(timer);
    if (ctx.isTty) ctx.stdout.write('\n');
  }
}
