// Where `mms serve` writes its log lines: JSON (one pino object per line) when stdout is a file, a pipe or the
// journal — what log collectors parse — and a short human form on a terminal, where an admin watches it:
//   19:20:01 INFO  MMS worker running; mms help lists the commands  database=./data/mms.sqlite dialect=sqlite
// Our own few lines rather than pino-pretty: that is a dependency of its own (and a worker thread) for a format
// this small. The fields are the same in both forms, so nothing is only in one of them.

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** pino's own fields, shown as the time and level columns or not at all (the same on every line). */
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'service', 'msg']);

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** One pino JSON line as `HH:MM:SS LEVEL message  key=value …` (local time), or the line itself if not JSON. */
export function prettyLogLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const t = typeof o.time === 'number' ? new Date(o.time) : new Date();
  const clock = [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  const level = (LEVELS[Number(o.level)] ?? String(o.level)).padEnd(5);
  const fields = Object.entries(o)
    .filter(([k, v]) => !OMIT.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${fieldText(v)}`)
    .join(' ');
  const msg = typeof o.msg === 'string' ? o.msg.replace(/[\r\n]+/g, ' ') : '';
  return `${clock} ${level} ${msg}${fields ? `  ${fields}` : ''}\n`;
}

/** A stream for pino that writes each of its JSON lines to `out` in the short human form. */
export function prettyLogStream(out: NodeJS.WritableStream): { write(line: string): void } {
  return { write: (line) => void out.write(prettyLogLine(line.replace(/\n$/, ''))) };
}
