// `mms serve` logs (issue 9 §1): JSON lines when stdout is a file or a pipe (what collectors and the journal read,
// checked by npm-start.test.ts), a short human form when it is a terminal. The terminal case runs the real service
// under script(1), which gives it a pseudo-terminal as stdout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prettyLogLine } from '../src/cli/log-output.js';
import { BIN, ROOT, childEnv, ensureBuiltDist } from './helpers/built-dist.js';
import { REQUIRE_ALL } from './helpers/databases.js';

describe('the human log form', () => {
  it('shows local time, level, message and every field but pino\'s own; strings with spaces quoted', () => {
    const time = new Date(2026, 10, 30, 9, 5, 7).getTime();
    const line = prettyLogLine(JSON.stringify({ level: 40, time, pid: 1, hostname: 'h', service: 'mms', database: './data/mms.sqlite', err: 'connect ECONNREFUSED 127.0.0.1:5432', n: 3, flags: { a: true }, msg: 'database not reachable;\nwaiting' }));
    assert.equal(line, '09:05:07 WARN  database not reachable; waiting  database=./data/mms.sqlite err="connect ECONNREFUSED 127.0.0.1:5432" n=3 flags={"a":true}\n');
  });

  it('prints a line that is not JSON as it is, and an unknown level by its number', () => {
    assert.equal(prettyLogLine('not json'), 'not json\n');
    assert.match(prettyLogLine(JSON.stringify({ level: 35, time: 0, msg: 'x' })), /^\d\d:\d\d:\d\d 35    x\n$/);
  });
});

const script = spawnSync('script', ['--version'], { encoding: 'utf8' });
const noScript = script.error ? 'script(1) (Debian bsdutils) is not installed: the terminal case cannot be run' : undefined;
if (noScript && REQUIRE_ALL) throw new Error(`MMS_REQUIRE_ALL=1 but ${noScript}`);

describe('mms serve on a terminal', { skip: noScript }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-log-tty-'));
  before(ensureBuiltDist, { timeout: 300_000 });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes the human form, not JSON, and still stops on SIGTERM', { timeout: 120_000 }, async () => {
    const env = childEnv({ MMS_DATABASE_URL: path.join(tmp, 'mms.sqlite'), MMS_DEMO: 'false', MMS_LOG_LEVEL: 'info' });
    const child = spawn('script', ['-qfec', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} serve`, '/dev/null'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const running = new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const line = out.split(/\r?\n/).find((l) => l.includes('MMS worker running') && /worker=\S+/.test(l));
        if (line) resolve(line);
      });
      void exited.then((code) => reject(new Error(`mms serve ended (${code}) before it ran:\n${out}`)));
    });
    const line = await running;
    assert.match(line, /^\d\d:\d\d:\d\d INFO  MMS worker running; mms help lists the commands {2}database=\S+ dialect=sqlite worker=\S+$/);
    const pid = Number(/worker=[^:\s]+:(\d+):/.exec(line)?.[1]);
    assert.ok(pid > 0, line);
    process.kill(pid, 'SIGTERM');
    assert.equal(await exited, 0, out);
    const lines = out.split(/\r?\n/).filter(Boolean);
    assert.ok(lines.some((l) => /^\d\d:\d\d:\d\d INFO  MMS worker stopped/.test(l)), out);
    assert.deepEqual(lines.filter((l) => l.trimStart().startsWith('{')), [], 'no JSON on a terminal');
  });
});
