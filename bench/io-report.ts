// The rows of the SMTP and CalDAV scenarios (bench/smtp.ts, bench/caldav.ts): the work goes to another server, so
// each row counts its own unit (messages, meetings) and is set against a plain client loop of the same requests.
export interface IoRow {
  readonly scenario: 'smtp' | 'caldav';
  /** What ran, e.g. "OutboxSender, MMS_SMTP_RATE=10 (default)". */
  readonly what: string;
  readonly unit: 'messages' | 'meetings';
  /** Items done in the measured part; undefined when the run did not succeed. */
  readonly items: number | undefined;
  readonly seconds: number | undefined;
  readonly perSecond: number | undefined;
  /** The plain loop's rate on the same server (the floor), and engine ÷ floor. */
  readonly floorPerSecond: number | undefined;
  readonly ratio: number | undefined;
  /** Target verdicts, e.g. "engine/floor>=0.8: yes". */
  readonly targets: readonly string[];
  readonly notes: readonly string[];
  readonly detail: Record<string, unknown>;
}

const num = (v: number | undefined, digits = 0): string => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));

/** The table printed after the storage scenarios' one. */
export function formatIoTable(rows: readonly IoRow[]): string {
  const head = ['scenario', 'what', 'unit', 'items', 'seconds', 'per s', 'floor per s', 'engine/floor', 'targets'];
  const body = rows.map((r) => [r.scenario, r.what, r.unit, num(r.items), num(r.seconds, 2), num(r.perSecond, 1), num(r.floorPerSecond, 1), num(r.ratio, 3), r.targets.join(', ')]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 && i <= 7 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  const notes = rows.flatMap((r) => r.notes.map((n) => `- ${r.scenario}/${r.what}: ${n}`));
  if (notes.length) out.push('', 'notes:', ...notes);
  return out.join('\n');
}

export const yes = (ok: boolean): string => (ok ? 'yes' : 'NO');
