// Stopping what you started stops the service (issue 9 §1): `kill <pid of npm start>` must reach the worker. npm
// forwards SIGTERM to its child, which must therefore be the worker itself (the script execs node on dist/), not a
// shell or a tsx launcher that dies and leaves the worker running under PID 1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, childEnv, ensureBuiltDist } from './helpers/built-dist.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-npm-start-'));

/** Whether a process runs (a zombie waiting to be reaped does not). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('npm start', () => {
  before(ensureBuiltDist, { timeout: 300_000 });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('stops the worker when npm is sent SIGTERM: nothing keeps running', { timeout: 120_000 }, async () => {
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: childEnv({ MMS_DATABASE_URL: path.join(tmp, 'mms.sqlite'), MMS_DEMO: 'false', MMS_LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let workerPid: number | undefined;
    try {
      // The worker writes to the pipe npm handed down to it: 'close' comes only once every process holding it (npm
      // and the worker) is gone — the event this test waits for.
      const closed = new Promise<void>((resolve) => npm.once('close', () => resolve()));
      const running$ = new Promise<number>((resolve, reject) => {
        npm.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          const line = out.split('\n').find((l) => l.includes('"MMS worker running'));
          // The worker id is host:pid:start.
          const pid = line ? Number((JSON.parse(line) as { worker: string }).worker.split(':')[1]) : undefined;
          if (pid) resolve(pid);
        });
        npm.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
        npm.once('exit', (code, signal) => reject(new Error(`npm start exited (${code ?? signal}) before the worker ran:\n${out}`)));
      });
      workerPid = await running$;
      assert.notEqual(workerPid, npm.pid, 'npm start runs the worker in a process of its own');
      assert.match(fs.readFileSync(`/proc/${workerPid}/cmdline`, 'utf8').split('\0').join(' '), /^\S*node( --[\w-]+=?\S*)* bin\/mms\.js serve/, 'the worker is node on bin/mms.js, no shell or tsx launcher between');
      assert.equal(Number(fs.readFileSync(`/proc/${workerPid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]), npm.pid, 'the worker is npm\'s own child');

      const signalled = performance.now();
      npm.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 30_000)));
      const r = await Promise.race([closed, late]);
      clearTimeout(timer);
      assert.notEqual(r, 'late', `npm start and its worker still hold the pipe 30 s after SIGTERM:\n${out}`);
      const tookMs = performance.now() - signalled;
      assert.ok(!running(workerPid), `the worker ${workerPid} still runs after npm exited`);
      assert.ok(tookMs < 10_000, `stopping took ${Math.round(tookMs)} ms`);
      const logs = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string; signal?: string });
      assert.ok(logs.some((l) => l.msg?.startsWith('stopping') && l.signal === 'SIGTERM'), `the worker did not get SIGTERM:\n${out}`);
      assert.ok(logs.some((l) => l.msg === 'MMS worker stopped'), `the worker did not stop cleanly:\n${out}`);
    } finally {
      if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
      if (workerPid !== undefined && running(workerPid)) process.kill(workerPid, 'SIGKILL');
    }
  });
});
