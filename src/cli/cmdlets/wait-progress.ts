import { workerSettings } from '../../config.js';
import { secretsFor } from '../secrets.js';
import { conflict } from '../../domain/errors.js';
import { MigrationWorker } from '../../migration/index.js';
import { getRequest, whyNotRunning } from '../../store/queue-repo.js';
import type { CmdletContext } from '../cmdlet.js';

const quiet = { info() {}, warn() {}, error() {} };

/** -Wait follows a retry due within this long; one due later ends the wait (exit 1) saying when it runs. */
export const WAIT_FOR_RETRY_MS = 60_000;

function bar(done: number, total: number, width = 30): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/**
 * -Wait: follows the given requests to their end. A request no worker has taken yet is run right here (a lease
 * keeps a running `mms serve` from taking it twice), so -Wait also works with no service running; it runs them
 * with the configured lease, retry and batch settings, as the service would. It never waits for ever: a request
 * that cannot run (migration turned off for the tenant, or stuck behind a request whose worker died) or waits for a
 * retry more than a minute away ends the
 * wait with a message saying so (exit 1). Progress is a bar on stderr when stderr is a terminal (stdout keeps the result alone, --json too); a script that
 * captures stderr gets no progress lines, only the result and any error line — as PowerShell shows no progress when
 * it runs non-interactively.
 */
export async function waitForRequests(ctx: CmdletContext, ids: readonly string[]): Promise<void> {
  const worker = new MigrationWorker({ db: ctx.db, logger: quiet, now: ctx.now, workerId: `mms-cli:${process.pid}`, ...workerSettings(ctx.config), secrets: secretsFor(ctx.config, ctx.db) });
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
        if (ctx.progressIsTty) ctx.progress.write(`\r${line}`);
        last = line;
      }
    }
    return open;
  };
  const blocked = async (): Promise<void> => {
    for (const id of ids) {
      const why = await whyNotRunning(ctx.db, id, ctx.now(), WAIT_FOR_RETRY_MS);
      if (why?.reason === 'Disabled') {
        throw conflict(`request ${id} cannot run: MeetingMigrationEnabled is false for this tenant; turn it on with Set-CsTenantMigrationConfiguration -MeetingMigrationEnabled $true (the request stays queued)`);
      }
      if (why?.reason === 'RetryLater') {
        throw conflict(`request ${id} waits for a retry at ${new Date(why.at).toISOString()} (${why.lastMessage}); mms serve runs it then, or run Start-CsExMeetingMigration -Wait again after that time`);
      }
      if (why?.reason === 'BehindAbandoned') {
        throw conflict(`request ${id} waits behind the user's request ${why.blockedBy}, whose worker stopped without finishing it; start the service (mms serve) to take it over, then run Start-CsExMeetingMigration -Wait again`);
      }
    }
  };
  const timer = setInterval(() => void show().catch(() => undefined), 250);
  try {
    while (await show()) {
      if (await worker.runOnce(ids)) continue;
      await blocked();
      await new Promise((r) => setTimeout(r, Math.min(500, ctx.config.pollMs)));
    }
  } finally {
    clearInterval(timer);
    if (ctx.progressIsTty) ctx.progress.write('\n');
  }
}
