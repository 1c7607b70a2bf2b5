// Telemetry reports (issue 11 §5): census, usage and error-report aggregates of one tenant in a time window, whole
// or per group (app version, OS, language, day). A report must never single someone out:
// - a group with fewer than the tenant's MinGroupSize distinct users (usage: devices) is hidden, values and all;
// - the hidden groups together are a group of their own that an admin could learn by differencing (the report
//   without -GroupBy minus the visible groups), so while they together are under MinGroupSize the smallest visible
//   group is hidden too (complementary suppression) — until they reach it, or everything is hidden;
// - no total of the whole window is printed beside the groups, and the hidden groups' event count only once they
//   together reach MinGroupSize (it is then what differencing would give anyway);
// - the window is widened to whole hours, so that two windows a moment apart cannot isolate one event.
// What this does not stop: each report is safe on its own; comparing many reports of overlapping windows or different
// groupings can still narrow groups down (that would need noise, i.e. differential privacy, not suppression).
import { usageError } from '../domain/errors.js';
import type { Db } from '../store/index.js';
import {
  DAY_MS, USAGE_COUNT_FIELDS, errorCodes, featureUses, groupAggregates, unionSize, type GroupAggregate, type GroupKey, type GroupSet, type ReportTable, type ReportWindow,
} from '../store/telemetry-report-repo.js';
import { getTelemetryConfiguration } from './settings.js';

export const REPORT_KINDS = ['Census', 'Usage', 'Error'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export const REPORT_GROUPS = ['AppVersion', 'OsName', 'Language', 'Day'] as const;
export type ReportGroup = (typeof REPORT_GROUPS)[number];

/** The window when -StartTime is not given: the 7 days before -EndTime. */
export const DEFAULT_REPORT_DAYS = 7;
/** Windows are widened to whole hours (UTC). */
export const REPORT_ALIGN_MS = 3_600_000;
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
  readonly hiddenGroups: number;
  /** Events of the hidden groups; null while they together are under MinGroupSize (then even that would tell). */
  readonly hiddenEvents: number | null;
}

/** The window a request means: defaults filled in, widened to whole hours; a usage error when it is empty or a group does not fit the kind. */
export function reportWindow(req: ReportRequest, now: number): { start: number; end: number } {
  if (req.groupBy && req.kind !== 'Census' && CENSUS_ONLY.includes(req.groupBy)) {
    throw usageError(`-GroupBy ${req.groupBy} needs -Kind Census: ${req.kind.toLowerCase()} events carry no OS name or language; use -GroupBy AppVersion or Day`);
  }
  // Omitted: the end of the current hour, so that what happened just now is in (the end itself is not).
  const end = req.end === undefined ? (Math.floor(now / REPORT_ALIGN_MS) + 1) * REPORT_ALIGN_MS : Math.ceil(req.end / REPORT_ALIGN_MS) * REPORT_ALIGN_MS;
  const start = Math.floor((req.start ?? end - DEFAULT_REPORT_DAYS * DAY_MS) / REPORT_ALIGN_MS) * REPORT_ALIGN_MS;
  if (start >= end) throw usageError('-StartTime is not before -EndTime: give a window that starts before it ends');
  return { start, end };
}

const dayText = (key: string): string => new Date(Number(key) * DAY_MS).toISOString().slice(0, 10);

/** 'name (n)' for the `top` largest of a group's names, largest first. */
function topOf(entries: ReadonlyArray<{ group: string; name: string; uses: number }>, group: string): string[] {
  return entries.filter((e) => e.group === group).sort((a, b) => b.uses - a.uses || a.name.localeCompare(b.name)).slice(0, TOP_SHOWN).map((e) => `${e.name} (${e.uses})`);
}

/** Each group's row after its key: the figures, and what they give (failure rate, top features or error codes). */
async function metrics(w: ReportWindow, kind: ReportKind, groups: ReadonlyMap<string, GroupAggregate>): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  const named = kind === 'Usage' ? await featureUses(w) : kind === 'Error' ? await errorCodes(w) : [];
  for (const [g, { figures: f }] of groups) {
    if (kind === 'Census') {
      out.set(g, { ...f, SignInFailureRate: f.SignInAttempts ? Math.round((f.SignInFailures! / f.SignInAttempts) * 1000) / 10 : null });
    } else if (kind === 'Usage') {
      out.set(g, { ...f, FeatureUses: named.filter((x) => x.group === g).reduce((s, x) => s + x.uses, 0), TopFeatures: topOf(named, g) });
    } else {
      out.set(g, { ...f, TopErrorCodes: topOf(named, g) });
    }
  }
  return out;
}

/** The columns of a kind's rows, in order (Group first). */
export function reportColumns(kind: ReportKind): string[] {
  if (kind === 'Census') return ['Group', 'Users', 'Devices', 'Events', 'SignInAttempts', 'SignInFailures', 'SignInFailureRate'];
  if (kind === 'Usage') return ['Group', 'Devices', 'Events', ...USAGE_COUNT_FIELDS, 'FeatureUses', 'TopFeatures'];
  return ['Group', 'Users', 'Devices', 'Events', 'TopErrorCodes'];
}

export async function telemetryReport(db: Db, tenantId: string, req: ReportRequest, now: number): Promise<TelemetryReport> {
  const { start, end } = reportWindow(req, now);
  const { minGroupSize } = await getTelemetryConfiguration(db, tenantId);
  const w: ReportWindow = { db, table: TABLES[req.kind], tenantId, groupBy: (req.groupBy ?? 'All') as GroupKey, start, end };
  const groups = await groupAggregates(w);
  const sizes = new Map([...groups].map(([g, a]) => [g, a.size]));
  const hidden = new Set([...sizes].filter(([, s]) => s < minGroupSize).map(([g]) => g));
  // Complementary suppression: the hidden groups together must reach MinGroupSize, or what differencing gives away
  // is a small group. The smallest visible groups join them until they do.
  const hiddenSet = (): GroupSet => (hidden.size * 2 <= sizes.size ? { in: [...hidden] } : { notIn: [...sizes.keys()].filter((g) => !hidden.has(g)) });
  let hiddenUnion = await unionSize(w, hiddenSet());
  while (hidden.size > 0 && hiddenUnion < minGroupSize && hidden.size < sizes.size) {
    const [smallest] = [...sizes].filter(([g]) => !hidden.has(g)).sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
    hidden.add(smallest![0]);
    hiddenUnion = await unionSize(w, hiddenSet());
  }
  const all = await metrics(w, req.kind, groups);
  const visible = [...all].filter(([g]) => !hidden.has(g));
  visible.sort(req.groupBy === 'Day' ? (a, b) => Number(a[0]) - Number(b[0]) : (a, b) => (sizes.get(b[0]) ?? 0) - (sizes.get(a[0]) ?? 0) || a[0].localeCompare(b[0]));
  const rows = visible.map(([g, m]) => ({ Group: req.groupBy === 'Day' ? dayText(g) : g, ...m }));
  const hiddenEvents = hidden.size > 0 && hiddenUnion >= minGroupSize ? [...hidden].reduce((s, g) => s + Number(all.get(g)?.Events ?? 0), 0) : null;
  return { kind: req.kind, start, end, minGroupSize, rows, hiddenGroups: hidden.size, hiddenEvents };
}
