// Telemetry reports (issue 11 §5): census, usage and error-report aggregates of one tenant in a time window, whole
// or per group (app version, OS, language, day). A report must never single someone out, so it is built from
// (group, UTC day) cells, each judged on its own day:
// - a cell with fewer than the tenant's MinGroupSize distinct users (usage: devices; error reports: named users, or
//   anonymous devices where no user is named) is hidden, values and all;
// - a day's hidden cells together are a group of their own that an admin could learn by differencing (that day's
//   report without -GroupBy minus its visible groups), so while they together are under MinGroupSize the day's
//   smallest visible cell is hidden too (complementary suppression) — until they reach it, or the whole day is hidden;
// - a window is whole UTC days (the start floored to 00:00Z, the end ceiled to the next 00:00Z) and its rows are
//   sums of the cells that passed, so two windows differ by whole day-cells, each of at least MinGroupSize people;
// - an error code or feature is named only if at least MinGroupSize users (usage: devices) sent it;
// - Users and Devices are the largest key epoch's count (a pseudonym changes with -RotateKey), a lower bound;
// - the hidden cells' event count is shown only when every day's hidden cells together reach MinGroupSize.
// What this does not stop (it would need noise, i.e. differential privacy, not suppression):
// - comparing reports of different groupings (by OS, then by language) can still narrow a day's people down;
// - distinct Users/Devices are not sums, so windows' differences in them tell how many new people came (not who);
// - a day's cell changes as events arrive: asking about today (or a day late events still reach) at two moments, or
//   before and after someone opts out of error reports (their reports are deleted), differences one person's events.
import { usageError } from '../domain/errors.js';
import type { Db } from '../store/index.js';
import {
  DAY_MS, appVersionText, cellAggregates, errorCodes, featureUses, groupCounts, unionSize, type Cell, type CellSet, type GroupKey, type NamedCount, type ReportTable, type ReportWindow,
} from '../store/telemetry-report-repo.js';
import { USAGE_COUNT_FIELDS } from '../store/telemetry-repo.js';
import { getTelemetryConfiguration } from './settings.js';

export const REPORT_KINDS = ['Census', 'Usage', 'Error'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export const REPORT_GROUPS = ['AppVersion', 'OsName', 'Language', 'Day'] as const;
export type ReportGroup = (typeof REPORT_GROUPS)[number];

/** The window when -StartTime is not given: the 7 days before -EndTime. */
export const DEFAULT_REPORT_DAYS = 7;
/** Names in a group's TopErrorCodes / TopFeatures. */
export const TOP_SHOWN = 5;

const TABLES: Readonly<Record<ReportKind, ReportTable>> = { Census: 'telemetry_census', Usage: 'telemetry_usage', Error: 'telemetry_errors' };
/** The fields only census events carry. */
const CENSUS_ONLY: readonly ReportGroup[] = ['OsName', 'Language'];

export interface ReportRequest {
  readonly kind: ReportKind;
  readonly groupBy?: ReportGroup;
  readonly start?: number;
  readonly end?: number;
}

export interface TelemetryReport {
  readonly kind: ReportKind;
  readonly start: number;
  readonly end: number;
  readonly minGroupSize: number;
  /** Visible groups, in order (days by date, others largest first), as the cmdlet's rows. */
  readonly rows: Record<string, unknown>[];
  /** Groups with at least one hidden day-cell (a group shown may lack some days). */
  readonly hiddenGroups: number;
  /** Events of the hidden cells; null while some day's hidden cells together are under MinGroupSize. */
  readonly hiddenEvents: number | null;
  /** Key epochs the shown figures span: over 1, Users and Devices are the largest epoch's. */
  readonly epochs: number;
}

/** The window a request means: defaults filled in, widened to whole UTC days; a usage error when it is empty or a group does not fit the kind. */
export function reportWindow(req: ReportRequest, now: number): { start: number; end: number } {
  if (req.groupBy && req.kind !== 'Census' && CENSUS_ONLY.includes(req.groupBy)) {
    throw usageError(`-GroupBy ${req.groupBy} needs -Kind Census: ${req.kind.toLowerCase()} events carry no OS name or language; use -GroupBy AppVersion or Day`);
  }
  // Omitted: the end of the current UTC day, so that what happened just now is in (the end itself is not).
  const end = req.end === undefined ? (Math.floor(now / DAY_MS) + 1) * DAY_MS : Math.ceil(req.end / DAY_MS) * DAY_MS;
  const start = Math.floor((req.start ?? end - DEFAULT_REPORT_DAYS * DAY_MS) / DAY_MS) * DAY_MS;
  if (start >= end) throw usageError('-StartTime is not before -EndTime: give a window that starts before it ends');
  return { start, end };
}

function groupText(groupBy: ReportGroup | undefined, key: string): string {
  if (groupBy === 'Day') return new Date(Number(key) * DAY_MS).toISOString().slice(0, 10);
  return groupBy === 'AppVersion' ? appVersionText(key) : key;
}

/** 'name (n)' for the `top` largest of a group's names sent by at least MinGroupSize, largest first: a rare error code (free text) or feature would tell who sent it. */
function topOf(entries: readonly NamedCount[], group: string, minGroupSize: number): string[] {
  return entries.filter((e) => e.group === group && e.senders >= minGroupSize).sort((a, b) => b.uses - a.uses || a.name.localeCompare(b.name)).slice(0, TOP_SHOWN).map((e) => `${e.name} (${e.uses})`);
}

/**
 * Suppression of one day's cells: those under MinGroupSize, and then the smallest others until the hidden ones
 * together reach it (or all are hidden). Returns the hidden groups and whether they together reach MinGroupSize.
 */
async function suppressDay(w: ReportWindow, day: number, cells: readonly Cell[], minGroupSize: number): Promise<{ hidden: Set<string>; reached: boolean }> {
  const hidden = new Set(cells.filter((c) => c.size < minGroupSize).map((c) => c.group));
  const dayWindow: ReportWindow = { ...w, start: day * DAY_MS, end: (day + 1) * DAY_MS };
  const union = () => unionSize(dayWindow, new Map([[day, [...hidden]]]));
  let size = hidden.size ? await union() : 0;
  while (hidden.size > 0 && size < minGroupSize && hidden.size < cells.length) {
    const [smallest] = cells.filter((c) => !hidden.has(c.group)).sort((a, b) => a.size - b.size || a.group.localeCompare(b.group));
    hidden.add(smallest!.group);
    size = await union();
  }
  return { hidden, reached: hidden.size === 0 || size >= minGroupSize };
}

/** The columns of a kind's rows, in order (Group first). */
export function reportColumns(kind: ReportKind): string[] {
  if (kind === 'Census') return ['Group', 'Users', 'Devices', 'Events', 'SignInAttempts', 'SignInFailures', 'SignInFailureRate'];
  if (kind === 'Usage') return ['Group', 'Devices', 'Events', ...USAGE_COUNT_FIELDS, 'FeatureUses', 'TopFeatures'];
  return ['Group', 'Users', 'Devices', 'Events', 'TopErrorCodes'];
}

/** Each shown group's row after its key: the counts, the sums and what they give (failure rate, top features or error codes). */
async function rowsOf(w: ReportWindow, kind: ReportKind, shown: CellSet, sums: ReadonlyMap<string, Record<string, number>>, minGroupSize: number) {
  const { counts, epochs } = await groupCounts(w, shown);
  const named = kind === 'Usage' ? await featureUses(w, shown) : kind === 'Error' ? await errorCodes(w, shown) : [];
  const rows = new Map<string, Record<string, unknown>>();
  for (const [g, s] of sums) {
    const f = { ...counts.get(g), ...s };
    if (kind === 'Census') {
      rows.set(g, { ...f, SignInFailureRate: f.SignInAttempts ? Math.round((f.SignInFailures! / f.SignInAttempts) * 1000) / 10 : null });
    } else if (kind === 'Usage') {
      rows.set(g, { ...f, FeatureUses: named.filter((x) => x.group === g).reduce((a, x) => a + x.uses, 0), TopFeatures: topOf(named, g, minGroupSize) });
    } else {
      rows.set(g, { ...f, TopErrorCodes: topOf(named, g, minGroupSize) });
    }
  }
  return { rows, epochs };
}

export async function telemetryReport(db: Db, tenantId: string, req: ReportRequest, now: number): Promise<TelemetryReport> {
  const { start, end } = reportWindow(req, now);
  const { minGroupSize } = await getTelemetryConfiguration(db, tenantId);
  const w: ReportWindow = { db, table: TABLES[req.kind], tenantId, groupBy: (req.groupBy ?? 'All') as GroupKey, start, end };
  const byDay = new Map<number, Cell[]>();
  for (const c of await cellAggregates(w)) byDay.set(c.day, [...(byDay.get(c.day) ?? []), c]);
  const shown = new Map<number, string[]>();
  const sums = new Map<string, Record<string, number>>();
  const hiddenGroups = new Set<string>();
  let hiddenEvents: number | null = 0;
  for (const [day, cells] of byDay) {
    const { hidden, reached } = await suppressDay(w, day, cells, minGroupSize);
    for (const c of cells) {
      if (hidden.has(c.group)) {
        hiddenGroups.add(c.group);
        if (hiddenEvents !== null) hiddenEvents += c.sums.Events ?? 0;
        continue;
      }
      shown.set(day, [...(shown.get(day) ?? []), c.group]);
      const s = sums.get(c.group) ?? {};
      for (const [k, v] of Object.entries(c.sums)) s[k] = (s[k] ?? 0) + v;
      sums.set(c.group, s);
    }
    if (!reached) hiddenEvents = null;
  }
  const { rows: all, epochs } = await rowsOf(w, req.kind, shown, sums, minGroupSize);
  const unit = req.kind === 'Usage' ? 'Devices' : 'Users';
  const size = (g: string) => Number(all.get(g)?.[unit] ?? 0);
  const visible = [...all].sort(req.groupBy === 'Day' ? (a, b) => Number(a[0]) - Number(b[0]) : (a, b) => size(b[0]) - size(a[0]) || a[0].localeCompare(b[0]));
  const rows = visible.map(([g, m]) => ({ Group: groupText(req.groupBy, g), ...m }));
  return { kind: req.kind, start, end, minGroupSize, rows, hiddenGroups: hiddenGroups.size, hiddenEvents: hiddenGroups.size ? hiddenEvents : null, epochs };
}
