// `mms serve` answers HTTP (issue 10 §1): it listens on MMS_HTTP_ADDRESS beside the worker, /healthz and /readyz
// answer, a port in use stops the start with one line (exit 2), and SIGTERM closes the listener with the worker.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, ROOT, childEnv, ensureBuiltDist } from './helpers/built-dist.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-serve-http-'));

/** Starts `node bin/mms.js serve`; resolves with the API's URL once it logs it, or rejects with what it wrote when it exits first. */
function startServe(env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: ROOT, env: childEnv({ MMS_DATABASE_URL: path.join(tmp, 'mms.sqlite'), MMS_DEMO: 'false', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const line = out.split('\n').find((l) => l.includes('"REST API listening'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    void exited.then((code) => reject(Object.assign(new Error(`mms serve exited ${code}`), { code, err, out })));
  });
  return { child, exited, listening, output: () => ({ out, err }) };
}

describe('mms serve answers HTTP', () => {
  before(ensureBuiltDist, { timeout: 300_000 });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('listens beside the worker; /healthz and /readyz answer; a second service on the same port stops with one line; SIGTERM closes both', { timeout: 120_000 }, async () => {
    const first = startServe({ MMS_HTTP_ADDRESS: '127.0.0.1:0' });
    try {
      const url = await first.listening;
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(await (await fetch(`${url}/healthz`)).json(), { status: 'ok' });
      // Ready once its worker runs (it beats before it says so).
      await new Promise<void>((resolve) => {
        const check = () => (first.output().out.includes('"MMS worker running') ? resolve() : setTimeout(check, 50));
        check();
      });
      const ready = await fetch(`${url}/readyz`);
      assert.equal(ready.status, 200);
      const api = await fetch(`${url}/api/v1/migrations`);
      assert.equal(api.status, 401);

      const second = startServe({ MMS_HTTP_ADDRESS: url.replace('http://', '') });
      const failed = await second.listening.then(() => undefined, (e: { code: number; err: string }) => e);
      assert.ok(failed, 'the second service must not start');
      assert.equal(failed.code, 2);
      assert.equal(failed.err, `mms: MMS_HTTP_ADDRESS ${url.replace('http://', '')} is in use (another mms serve?): stop that process, or set MMS_HTTP_ADDRESS to a free port (or off)\n`);
    } finally {
      first.child.kill('SIGTERM');
    }
    assert.equal(await first.exited, 0, first.output().err);
  });

  it('with MMS_HTTP_ADDRESS=off it runs the worker without listening', { timeout: 120_000 }, async () => {
    const s = startServe({ MMS_HTTP_ADDRESS: 'off' });
    s.listening.catch(() => undefined); // it never listens: its exit ends that promise
    const running = new Promise<void>((resolve) => {
      const check = () => (s.output().out.includes('"MMS worker running') ? resolve() : setTimeout(check, 50));
      check();
    });
    await running;
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    assert.doesNotMatch(s.output().out, /REST API listening/);
  });
});
