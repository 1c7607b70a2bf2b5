// Issue 9 §3: queued migrations that nobody runs must not look like slow ones. After the status cmdlet and every
// cmdlet that queues (or lets run) migrations, one line on stderr says when requests wait and no `mms serve` worker
// has been seen for a while (store/worker-repo.ts: WORKER_GONE_AFTER), since when, and how to start one.
import { resolveTenant } from '../directory/index.js';
import type { Db } from '../store/index.js';
import { countDuePending, countPending, workerLiveness } from '../store/worker-repo.js';
import type { Cmdlet, CmdletResult } from './cmdlet.js';

// Which cmdlets warn is their own `workerNotice` field (cmdlet.ts). After a `queued` one, the requests the command
// itself queued (or merged into) count, whatever their NotBefore (MMS_MIGRATION_DELAY): nobody will run them, and
// the admin is looking now. A command that changed nothing ("no change") or only previewed (-WhatIf) names no
// request and says nothing. After a `due` one, the requests a worker would take now (Pending, NotBefore passed,
// migration enabled) count.

/** The CorrelationIds a result names (a trigger's rows or object): the requests the command queued or merged into. */
function correlationIds(result: CmdletResult): string[] {
  const records = result.kind === 'rows' ? result.rows : result.kind === 'object' ? [result.value] : [];
  return [...new Set(records.map((r) => r['CorrelationId']).filter((c): c is string => typeof c === 'string' && c !== ''))];
}

/** How to start a worker, as the README says it. */
const START_A_WORKER = 'start one with npm start (or npx mms serve; as a systemd service: sudo systemctl enable --now mms)';

/** That no worker runs, since when, and how to start one (the warning's second half; Get-MmsMigrationRate's WorkerNotice). */
export function noWorkerText(lastSeen: number | null): string {
  const seen = lastSeen === null ? 'no mms serve worker is running on this database (none has a heartbeat)' : `no mms serve worker has been seen since ${new Date(lastSeen).toISOString()}`;
  return `${seen}; ${START_A_WORKER}`;
}

/**
 * The warning line for `cmdlet` (with its newline), or undefined when there is nothing to say: not a cmdlet it
 * applies to, no request waiting, a worker seen recently — or the heartbeat could not be read (a warning must
 * never fail the command that already succeeded).
 */
export async function workerNotice(cmdlet: Cmdlet, result: CmdletResult, db: Db | undefined, tenantName: string | undefined, now: number): Promise<string | undefined> {
  if (!db || !cmdlet.workerNotice) return undefined;
  const trigger = cmdlet.workerNotice === 'queued';
  try {
    const tenant = await resolveTenant(db, tenantName);
    const waiting = trigger ? await countPending(db.kysely, tenant.id, correlationIds(result)) : await countDuePending(db.kysely, tenant.id, now);
    if (!waiting) return undefined;
    const { running, lastSeen } = await workerLiveness(db.kysely, now);
    if (running) return undefined;
    const what = trigger ? `the ${waiting} request(s) queued` : `${waiting} migration request(s) Pending past their NotBefore`;
    return `mms: warning: ${what} wait for a worker, but ${noWorkerText(lastSeen)}\n`;
  } catch {
    return undefined;
  }
}
