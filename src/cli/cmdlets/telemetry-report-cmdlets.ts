// Get-MmsTelemetryReport (issue 11 §5): the tenant's client telemetry as counts per group, with groups under the
// tenant's MinGroupSize hidden (telemetry/report.ts says how and why). Rows for the table and the REST API alike;
// the hidden groups are one last row that says how many they are, never what they hold.
import { resolveTenant } from '../../directory/index.js';
import { REPORT_GROUPS, REPORT_KINDS, reportColumns, telemetryReport, DEFAULT_REPORT_DAYS, type ReportGroup, type ReportKind, type TelemetryReport } from '../../telemetry/report.js';
import type { Cmdlet, CmdletResult } from '../cmdlet.js';
import { withNotices } from '../notice.js';
import { num, str } from './shared.js';

/** The last row: how many groups are hidden on some day and, once each day's hidden ones together reach MinGroupSize, their events. */
function hiddenRow(r: TelemetryReport): Record<string, unknown> {
  const why = `${r.hiddenGroups} group${r.hiddenGroups === 1 ? '' : 's'} hidden (under ${r.minGroupSize} ${r.kind === 'Usage' ? 'devices' : 'users'} a day)`;
  return { Group: `(${why})`, Hidden: true, HiddenGroups: r.hiddenGroups, Events: r.hiddenEvents, MinGroupSize: r.minGroupSize };
}

function notice(r: TelemetryReport): string[] {
  const window = `${new Date(r.start).toISOString()} to ${new Date(r.end).toISOString()}`;
  const unit = r.kind === 'Usage' ? 'devices' : 'users';
  const epochs = r.epochs > 1 ? [`the window spans ${r.epochs} key epochs (-RotateKey makes everyone a new pseudonym): Users and Devices are the largest epoch's count, a lower bound`] : [];
  if (r.hiddenGroups === 0) return [`${r.kind.toLowerCase()} report of ${window}`, ...epochs];
  const events = r.hiddenEvents === null ? 'their events are not counted either, as on some day they together are under MinGroupSize' : `they hold ${r.hiddenEvents} events`;
  return [`${r.kind.toLowerCase()} report of ${window}: ${r.hiddenGroups} group(s) with fewer than ${r.minGroupSize} distinct ${unit} on a day (or hidden so that a day's hidden groups together reach it) are left out of that day; ${events}`, ...epochs];
}

export function reportResult(r: TelemetryReport): CmdletResult {
  const rows = r.hiddenGroups > 0 ? [...r.rows.map((x) => ({ ...x, Hidden: false })), hiddenRow(r)] : r.rows.map((x) => ({ ...x, Hidden: false }));
  return withNotices({ kind: 'rows', rows, columns: reportColumns(r.kind), keyColumns: ['Group'] }, ...notice(r));
}

export const TELEMETRY_REPORT_CMDLETS: Cmdlet[] = [
  {
    name: 'Get-MmsTelemetryReport',
    area: 'Client telemetry',
    synopsis: 'Reports the tenant\'s client telemetry (census, usage or error reports) as counts per group; groups under MinGroupSize are hidden.',
    params: [
      { name: 'Kind', type: 'enum', values: REPORT_KINDS, required: true, position: 0, help: 'Census: distinct users and devices, sign-in attempts, failures and failure rate (%). Usage: devices, calls, IMs, meetings joined, minutes, stability issues, features used. Error: distinct users and devices, reports, top error codes.' },
      { name: 'StartTime', type: 'datetime', help: `Events that happened from this time (default: ${DEFAULT_REPORT_DAYS} days before -EndTime); widened to the start of its UTC day.` },
      { name: 'EndTime', type: 'datetime', help: 'Events that happened before this time (default: the end of the current UTC day); widened to the next 00:00 UTC, so a date alone includes that whole day. Reports are made of whole days so that two windows cannot be subtracted to single someone out.' },
      { name: 'GroupBy', type: 'enum', values: REPORT_GROUPS, help: 'One row per app and version, OS name, language or day (UTC); default one row for the whole window. OsName and Language need -Kind Census: only census events carry them.' },
    ],
    examples: [
      'npx mms Get-MmsTelemetryReport -Kind Census',
      'npx mms Get-MmsTelemetryReport -Kind Census -GroupBy Day -StartTime 2026-11-01 -EndTime 2026-11-30',
      'npx mms Get-MmsTelemetryReport -Kind Usage -GroupBy AppVersion --json',
      'npx mms Get-MmsTelemetryReport -Kind Error -StartTime 2026-11-23',
    ],
    async run(ctx, a) {
      const tenant = await resolveTenant(ctx.db, ctx.tenant);
      const report = await telemetryReport(ctx.db, tenant.id, {
        kind: str(a, 'Kind') as ReportKind, groupBy: str(a, 'GroupBy') as ReportGroup | undefined, start: num(a, 'StartTime'), end: num(a, 'EndTime'),
      }, ctx.now());
      return reportResult(report);
    },
  },
];
