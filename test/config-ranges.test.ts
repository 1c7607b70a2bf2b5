// Issue 9 §4: every numeric setting has a documented range; a value outside it stops the service (and every mms
// command) at start with exit 2 and one line that states the range.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { CONFIG_RANGES, CONFIG_VARIABLES, loadConfig, rangeText } from '../src/config.js';
import { MmsError } from '../src/domain/errors.js';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { runCli } from '../src/cli/run-cli.js';

type Name = keyof typeof CONFIG_RANGES;

/** Per setting: values just outside the range (refused) and its two ends (accepted). */
const CASES: ReadonlyArray<{ name: Name; refused: string[]; accepted: string[]; range: string; def: string }> = [
  { name: 'MMS_MIGRATION_DELAY', refused: ['25h', '86400001'], accepted: ['0', '24h'], range: '0 to 24h', def: '5s' },
  { name: 'MMS_HISTORY_DAYS', refused: ['0', '3651'], accepted: ['1', '3650'], range: '1 to 3650', def: '150' },
  { name: 'MMS_LEASE', refused: ['0', '99ms', '61m'], accepted: ['100ms', '1h'], range: '100ms to 1h', def: '60s' },
  { name: 'MMS_POLL_INTERVAL', refused: ['0', '9ms', '11m'], accepted: ['10ms', '10m'], range: '10ms to 10m', def: '1s' },
  { name: 'MMS_RETRY_ATTEMPTS', refused: ['0', '101'], accepted: ['1', '100'], range: '1 to 100', def: '9' },
  { name: 'MMS_RETRY_BASE', refused: ['0', '99ms', '25h'], accepted: ['100ms', '24h'], range: '100ms to 24h', def: '340s' },
  { name: 'MMS_BATCH_SIZE', refused: ['0', '10001'], accepted: ['1', '10000'], range: '1 to 10000', def: '50' },
  { name: 'MMS_SMTP_RATE', refused: ['10001'], accepted: ['0.01', '10000'], range: 'above 0 to 10000', def: '10' },
  { name: 'MMS_BUSY_WAIT', refused: ['11m', '600001'], accepted: ['0', '10m'], range: '0 to 10m', def: '30s' },
  { name: 'MMS_TELEMETRY_THREADS', refused: ['65'], accepted: ['0', '64'], range: '0 to 64', def: '(CPU cores - 1, at least 1)' },
];

function sink() {
  let text = '';
  return { stream: new Writable({ write(c, _e, done) { text += String(c); done(); } }), read: () => text };
}

describe('numeric settings have documented ranges', () => {
  it('covers every numeric setting', () => {
    assert.deepEqual(CASES.map((c) => c.name).sort(), Object.keys(CONFIG_RANGES).sort());
  });

  for (const c of CASES) {
    it(`${c.name} outside ${c.range} is refused with the range; its ends are accepted`, () => {
      assert.equal(rangeText(c.name), c.range);
      for (const v of c.refused) {
        assert.throws(() => loadConfig({ [c.name]: v }), (err: unknown) => {
          assert.ok(err instanceof MmsError && err.code === 'Config', String(err));
          assert.equal(err.message, `${c.name}=${JSON.stringify(v)} is not valid: the range is ${c.range} (default ${c.def})`);
          return true;
        }, `${c.name}=${v}`);
      }
      for (const v of c.accepted) assert.doesNotThrow(() => loadConfig({ [c.name]: v }), `${c.name}=${v}`);
    });
  }

  it('mms serve with MMS_POLL_INTERVAL=0 or MMS_LEASE=0 stops at start: exit 2, one line with the range, the service never starts', async () => {
    const lines = {
      MMS_POLL_INTERVAL: 'mms: MMS_POLL_INTERVAL="0" is not valid: the range is 10ms to 10m (default 1s)\n',
      MMS_LEASE: 'mms: MMS_LEASE="0" is not valid: the range is 100ms to 1h (default 60s)\n',
    };
    for (const [name, line] of Object.entries(lines)) {
      for (const argv of [['serve'], ['Get-CsTenantMigrationConfiguration']]) {
        let started = false;
        const out = sink();
        const err = sink();
        const code = await runCli(argv, { stdout: out.stream, stderr: err.stream, env: { MMS_DATABASE_URL: ':memory:', [name]: '0' }, isTty: false }, CMDLETS, async () => {
          started = true;
        });
        assert.equal(code, 2, `${name}=0 ${argv[0]}`);
        assert.equal(err.read(), line);
        assert.equal(out.read(), '');
        assert.equal(started, false);
      }
    }
  });

  it('mms help and the README configuration table state each range', () => {
    const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const c of CASES) {
      const row = CONFIG_VARIABLES.find(([n]) => n === c.name);
      assert.ok(row?.[2].endsWith(`Range: ${c.range}.`), `CONFIG_VARIABLES ${c.name}: ${row?.[2]}`);
      const line = readme.split('\n').find((l) => l.startsWith(`| \`${c.name}\` |`));
      assert.ok(line?.includes(`Range: ${c.range}.`), `README ${c.name}: ${line}`);
    }
  });
});
