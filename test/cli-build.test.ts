// `mms` ships as compiled JavaScript (issue 9 §1): `npm run build` (run by `npm install` through `prepare`) emits
// src/ — and only src/ — into dist/ with the repository's strict settings, and bin/mms.js runs dist/ without
// loading tsx; a dist/ older than src/ is not run (bin/mms.js says so in one line and runs the sources instead).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, ROOT, childEnv, ensureBuiltDist } from './helpers/built-dist.js';

const DIST = path.join(ROOT, 'dist');
const MAIN = path.join(DIST, 'cli', 'main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-cli-build-'));
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Every file under dir, relative to it. */
function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p).map((f) => path.join(e.name, f)) : [e.name];
  });
}

// A resolve hook that writes every module URL the process loads to a file (hooks run on a thread of their own,
// hence a file): the proof of what `mms` ran, whatever the process says about itself.
const HOOKS = path.join(tmp, 'record-hooks.mjs');
const REGISTER = path.join(tmp, 'record.mjs');
fs.writeFileSync(HOOKS, `import fs from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  fs.appendFileSync(process.env.MMS_TEST_LOADED, r.url + '\\n');
  return r;
}
`);
fs.writeFileSync(REGISTER, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(HOOKS).href)});\n`);

/** `node bin/mms.js <args>` as an admin runs it, with the modules it loaded. */
function mms(args: readonly string[]) {
  const log = path.join(tmp, `loaded-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  fs.writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(REGISTER).href, BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: childEnv({ MMS_DATABASE_URL: path.join(tmp, 'mms.sqlite'), MMS_TEST_LOADED: log }),
  });
  const loaded = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { code: r.status, out: r.stdout, err: r.stderr, loaded };
}

describe('mms as compiled JavaScript', () => {
  before(ensureBuiltDist, { timeout: 300_000 });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('npm run build emits every source of src/ into dist/, and nothing else', () => {
    const emitted = files(DIST).filter((f) => f.endsWith('.js')).sort();
    // Test-only modules (node:test files and their generators) stay out: tsconfig.build.json excludes them.
    const testOnly = new Set(['domain/meeting-block/arbitraries.ts', 'domain/meeting-block/fixtures.ts']);
    const sources = files(path.join(ROOT, 'src'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !testOnly.has(f))
      .map((f) => f.replace(/\.ts$/, '.js'))
      .sort();
    assert.ok(sources.includes('cli/main.js'));
    assert.deepEqual(emitted, sources);
  });

  it('builds with the repository\'s strict settings, and only the build emits', () => {
    const show = (project: string) => {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--showConfig', '-p', project], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      return JSON.parse(r.stdout) as { compilerOptions: Record<string, unknown>; files?: string[] };
    };
    const build = show('tsconfig.build.json');
    const main = show('tsconfig.json');
    for (const option of ['strict', 'noUncheckedIndexedAccess', 'noImplicitOverride', 'noFallthroughCasesInSwitch', 'verbatimModuleSyntax', 'isolatedModules']) {
      assert.equal(build.compilerOptions[option], true, `tsconfig.build.json: ${option}`);
    }
    assert.equal(build.compilerOptions.module, main.compilerOptions.module);
    assert.equal(build.compilerOptions.target, main.compilerOptions.target);
    assert.notEqual(build.compilerOptions.noEmit, true);
    assert.equal(main.compilerOptions.noEmit, true, 'tsconfig.json stays the type-check of src, test and bench');
    assert.ok(build.files?.every((f) => f.startsWith('./src/') && !f.endsWith('.test.ts')), 'the build compiles src/ only');
  });

  it('bin/mms.js help runs dist/ without loading tsx, and finds what src reads beside itself (package.json)', () => {
    const r = mms(['help']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.match(r.out, /^Cmdlets:$/m);
    assert.match(r.out, new RegExp(`^mms ${VERSION.replace(/\./g, '\\.')}: Meeting Migration Service`));
    assert.ok(r.loaded.includes(pathToFileURL(MAIN).href), `dist/cli/main.js was not loaded:\n${r.loaded.join('\n')}`);
    assert.deepEqual(r.loaded.filter((u) => u.includes('/node_modules/tsx/') || u.startsWith(pathToFileURL(path.join(ROOT, 'src')).href)), []);
  });

  it('runs the sources through tsx, saying so in one line with the fix, when src/ is newer than dist/', () => {
    const { atime, mtime } = fs.statSync(MAIN);
    // Put the build in the past instead of touching a source: a run cut short here leaves a dist/ that is only
    // rebuilt next time, never a source with a changed stamp.
    fs.utimesSync(MAIN, new Date(0), new Date(0));
    try {
      const r = mms(['--version']);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out.trim(), `mms ${VERSION}`);
      assert.match(r.err, /^mms: src\/ changed since dist\/ was built; running the TypeScript sources through tsx \(slower\): run npm run build in .+\n$/);
      assert.ok(r.loaded.includes(pathToFileURL(path.join(ROOT, 'src', 'cli', 'main.ts')).href), r.loaded.join('\n'));
      assert.ok(!r.loaded.includes(pathToFileURL(MAIN).href));
    } finally {
      fs.utimesSync(MAIN, atime, mtime);
    }
  });
});
