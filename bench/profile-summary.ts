// Where the worker processes' time goes: self time from their V8 CPU profiles (--profile), by area and by function.
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/** The part of the system a frame belongs to. */
function areaOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)' || name === '(program)') return name;
  const u = url.replace(/^file:\/\//, '');
  // better-sqlite3 runs statements synchronously: their native time is charged to Kysely's driver call.
  if (name === 'executeQuery' && u.includes('dialect/sqlite/sqlite-driver')) return 'SQLite statement execution';
  if (name === 'prepare' && u.includes('better-sqlite3')) return 'SQLite statement preparation';
  const src = /\/src\/([^/]+)\//.exec(u);
  if (src && !u.includes('node_modules')) return `src/${src[1]}`;
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (mod) return mod[1] as string;
  if (u.startsWith('node:internal/modules') || u.startsWith('node:internal/deps/cjs') || ['compileSourceTextModule', 'receiveMessageOnPort'].includes(name)) return 'module loading (tsx, once at start)';
  if (['writev', 'write', 'read', 'writeUtf8String', 'writeBuffer'].includes(name)) return 'socket / file I/O (native)';
  if (u === 'node:buffer') return 'Buffer encoding (query parameters, results)';
  if (u.startsWith('node:') || u === '') return 'node internals / native';
  return path.basename(u);
}

function summarizeOne(file: string): { total: number; areas: Map<string, number>; functions: Map<string, number> } {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  if (p.samples) for (const s of p.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  else for (const n of p.nodes) hits.set(n.id, n.hitCount ?? 0);
  const sampleCount = [...hits.values()].reduce((a, b) => a + b, 0) || 1;
  const msPerSample = (p.endTime - p.startTime) / 1000 / sampleCount;
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const [id, count] of hits) {
    const n = byId.get(id);
    if (!n) continue;
    const ms = count * msPerSample;
    const { functionName, url, lineNumber } = n.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') continue;
    total += ms;
    const area = areaOf(url, name);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    // tsx runs transformed code, so line numbers point into it; the file is what helps.
    const where = url ? url.replace(/^file:\/\//, '').replace(/^.*?\/(src|bench|node_modules)\//, '$1/') : '';
    void lineNumber;
    const key = `${name} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + ms);
  }
  return { total, areas, functions };
}

const ENGINE = ['src/ical', 'src/domain', 'src/migration', 'src/meetings', 'ical.js'];
const DATABASE = ['SQLite statement execution', 'SQLite statement preparation', 'kysely', 'better-sqlite3', 'pg', 'pg-protocol', 'pg-pool', 'socket / file I/O (native)', 'Buffer encoding (query parameters, results)', 'src/store', 'src/mailbox'];

/** Areas folded into three: the engine's own work, talking to the database, garbage collection. */
function groupsOf(areas: ReadonlyMap<string, number>): Array<[string, number]> {
  let engine = 0;
  let database = 0;
  let gc = 0;
  let other = 0;
  for (const [k, v] of areas) {
    if (ENGINE.includes(k)) engine += v;
    else if (DATABASE.includes(k)) database += v;
    else if (k === 'GC') gc += v;
    else other += v;
  }
  return [
    ['iCalendar / block / migration logic (src/ical, src/domain, src/migration)', engine],
    ['database: driver, query building, statement execution, I/O', database],
    ['garbage collection', gc],
    ['other (node internals, module loading, …)', other],
  ];
}

/** A text summary of every .cpuprofile under `dir` (one section per sub-folder). */
export function summarizeProfiles(dir: string): string {
  if (!fs.existsSync(dir)) return 'no CPU profiles were written';
  const out: string[] = [
    'CPU profiles of the worker processes (self time on the main thread, idle excluded; with better-sqlite3 the time',
    'spent inside SQLite, including waiting for the disk, is on the main thread too):',
  ];
  for (const sub of fs.readdirSync(dir).sort()) {
    const folder = path.join(dir, sub);
    if (!fs.statSync(folder).isDirectory()) continue;
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread; the others are tsx's loader.
    const files = fs.readdirSync(folder).filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0');
    if (!files.length) continue;
    let total = 0;
    const areas = new Map<string, number>();
    const functions = new Map<string, number>();
    for (const f of files) {
      const s = summarizeOne(path.join(folder, f));
      total += s.total;
      for (const [k, v] of s.areas) areas.set(k, (areas.get(k) ?? 0) + v);
      for (const [k, v] of s.functions) functions.set(k, (functions.get(k) ?? 0) + v);
    }
    const pct = (v: number) => `${((100 * v) / total).toFixed(1).padStart(5)}%`;
    out.push('', `${sub} (${files.length} process${files.length > 1 ? 'es' : ''}, ${(total / 1000).toFixed(1)} s on the main thread):`, '  in short:');
    for (const [k, v] of groupsOf(areas)) out.push(`    ${pct(v)}  ${k}`);
    out.push('  by area:');
    for (const [k, v] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 12)) out.push(`    ${pct(v)}  ${k}`);
    out.push('  top functions:');
    for (const [k, v] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, 20)) out.push(`    ${pct(v)}  ${k}`);
  }
  return out.join('\n');
}
