// `mms serve`'s first start (issue 10 §2): with the HTTP server on and no admin account, it creates the ServiceAdmin
// `admin` and prints a one-time sign-in link once on stdout; the link sets the password and the admin signs in over
// real HTTP; a second start prints nothing. The built `mms`, a SQLite file of its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, ROOT, childEnv, ensureBuiltDist } from './helpers/built-dist.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-first-start-'));

/** Runs `mms serve` until its worker runs; returns what it printed before that and the API's URL, then stops it. */
async function serveOnce(): Promise<{ out: string; url: string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: ROOT, env: childEnv({ MMS_DATABASE_URL: path.join(tmp, 'mms.sqlite'), MMS_DEMO: 'false', MMS_HTTP_ADDRESS: '127.0.0.1:0' }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('"MMS worker running')) resolve();
    });
    void exited.then((code) => reject(new Error(`mms serve exited ${code}: ${err}${out}`)));
  });
  const line = out.split('\n').find((l) => l.includes('"REST API listening'))!;
  return { out, url: (JSON.parse(line) as { url: string }).url, stop: () => (child.kill('SIGTERM'), exited) };
}

describe('mms serve: the first admin', () => {
  before(ensureBuiltDist, { timeout: 300_000 });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('prints a one-time sign-in link for admin on the first start only; the link sets the password and admin signs in', { timeout: 120_000 }, async () => {
    const first = await serveOnce();
    try {
      const links = [...first.out.matchAll(/^ {2}(http:\/\/\S+\/signin\/setup\?code=[A-Za-z0-9_-]{43})$/gm)].map((m) => m[1]!);
      assert.equal(links.length, 1, first.out);
      assert.ok(links[0]!.startsWith(`${first.url}/signin/setup`), `${links[0]} is on ${first.url}`);
      assert.match(first.out, /created the admin account 'admin' \(ServiceAdmin\)/);
      const page = await fetch(links[0]!);
      assert.equal(page.status, 200);
      const code = new URL(links[0]!).searchParams.get('code')!;
      const password = 'first admin password';
      const set = await fetch(`${first.url}/signin/setup`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ Code: code, Password: password, ConfirmPassword: password }) });
      assert.equal(set.status, 303);
      const signIn = await fetch(`${first.url}/signin`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ UserName: 'admin', Password: password }) });
      assert.equal(signIn.status, 303);
      const cookie = /^mms_session=[^;]+/.exec(signIn.headers.get('set-cookie') ?? '')?.[0];
      assert.ok(cookie, 'a session cookie');
      const who = await fetch(`${first.url}/api/v1/session`, { headers: { cookie } });
      assert.equal((await who.json() as { UserName: string }).UserName, 'admin');
    } finally {
      assert.equal(await first.stop(), 0);
    }
    const second = await serveOnce();
    assert.equal(await second.stop(), 0);
    assert.doesNotMatch(second.out, /signin\/setup|created the admin account/);
  });
});
