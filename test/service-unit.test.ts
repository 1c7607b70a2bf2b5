// Running as a service (issue 7 §5): the systemd unit in docs/ is the one the guide shows, systemd accepts it, and
// its ExecStart command starts the worker as the main process — SIGTERM reaches it and it exits 0.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const UNIT_FILE = path.join(ROOT, 'docs', 'mms.service');
const GUIDE = path.join(ROOT, 'docs', 'running-as-a-service.md');
const unit = fs.readFileSync(UNIT_FILE, 'utf8');

/** The value of `key=` in the unit (the last one wins, as in systemd). */
function setting(key: string): string {
  const values = unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
  const v = values.at(-1);
  assert.ok(v !== undefined, `the unit sets ${key}=`);
  return v;
}

const systemdAnalyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const NO_SYSTEMD = systemdAnalyze.error ? `systemd-analyze is not installed (${systemdAnalyze.error.message}); the unit file is not verified here` : undefined;

describe('the systemd unit', () => {
  it('in docs/mms.service is the one the guide shows', () => {
    const guide = fs.readFileSync(GUIDE, 'utf8');
    const shown = /## The unit: `\/etc\/systemd\/system\/mms\.service`[\s\S]*?```ini\n([\s\S]*?)```/.exec(guide)?.[1];
    assert.equal(shown, unit);
  });

  it('restarts on failure, runs as its own user with an environment file, stops with SIGTERM and logs to the journal', () => {
    assert.equal(setting('Type'), 'simple');
    assert.equal(setting('Restart'), 'on-failure');
    assert.equal(setting('User'), 'mms');
    assert.equal(setting('EnvironmentFile'), '/etc/mms/mms.env');
    assert.equal(setting('StateDirectory'), 'mms');
    assert.equal(setting('KillSignal'), 'SIGTERM');
    assert.ok(Number.parseInt(setting('TimeoutStopSec'), 10) >= 30, 'TimeoutStopSec leaves a batch time to commit');
    assert.equal(setting('StandardOutput'), 'journal');
    assert.doesNotMatch(setting('ExecStart'), /\bnpm\b|\bnpx\b/, 'node itself is the main process, not npm');
  });

  it('passes systemd-analyze verify', { skip: NO_SYSTEMD }, () => {
    // verify wants the file under a name ending .service; a copy keeps the check independent of the checkout path.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-unit-'));
    try {
      const copy = path.join(dir, 'mms.service');
      fs.copyFileSync(UNIT_FILE, copy);
      const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
      assert.equal(r.status, 0, `systemd-analyze verify: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr.trim(), '', 'no warnings');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ExecStart starts the worker as the main process: it runs, takes SIGTERM itself and exits 0', { timeout: 90_000 }, async () => {
    const [exe, ...args] = setting('ExecStart').split(/\s+/);
    assert.equal(exe, '/usr/bin/node');
    assert.equal(setting('WorkingDirectory'), '/opt/mms');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-unit-'));
    const child = spawn(process.execPath, args, {
      cwd: ROOT, // the unit's WorkingDirectory, where the checkout is installed
      env: { PATH: process.env.PATH ?? '', MMS_DATABASE_URL: path.join(dir, 'mms.sqlite'), MMS_DEMO: 'false', MMS_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      const running = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('"msg":"MMS worker running')) resolve();
        });
        child.stderr.on('data', (b: Buffer) => void (out += b.toString()));
        void exited.then((e) => reject(new Error(`the worker exited before it ran (${JSON.stringify(e)}): ${out}`)));
      });
      await running;
      child.kill('SIGTERM');
      assert.deepEqual(await exited, { code: 0, signal: null }, out);
      assert.match(out, /"msg":"MMS worker stopped"/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
