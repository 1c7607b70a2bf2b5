// `mms` ships as bundled JavaScript (issue 9 §1): `npm run build` (run by `npm install` through `prepare`) type-checks
// src/ with the repository's strict settings and bundles it into dist/cli/main.js, and bin/mms.js runs that one file
// without loading tsx or ~600 modules; a dist/ older than src/ is not run (bin/mms.js says so in one line and runs
// the sources instead). The bundle works on both databases (pg is inside it) and maps errors back to src/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, ROOT, childEnv, ensureBuiltDist } from './helpers/built-dist.js';
import { TEST_DATABASES } from './helpers/databases.js';

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

/** `node bin/mms.js <args>` as an admin runs it (that of the project at `root`), with the modules it loaded. */
function mms(args: readonly string[], env: Record<string, string> = {}, root = ROOT) {
  const log = path.join(tmp, `loaded-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  fs.writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(REGISTER).href, root === ROOT ? BIN : path.join(root, 'bin', 'mms.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: childEnv({ MMS_DATABASE_URL: path.join(tmp, 'mms.sqlite'), MMS_TEST_LOADED: log, ...env }),
  });
  const loaded = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { code: r.status, out: r.stdout, err: r.stderr, loaded };
}

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('mms as compiled JavaScript', () => {
  before(ensureBuiltDist, { timeout: 300_000 });

  it('npm run build writes the bundle of src/ (main.js and its chunks) with source maps into dist/, and nothing else', () => {
    const all = files(DIST).sort();
    assert.ok(all.includes(path.join('cli', 'main.js')) && all.includes(path.join('cli', 'main.js.map')), all.join('\n'));
    // Beside the CLI: the telemetry SDK the package exports (./telemetry), one module and its declarations.
    // Beside main.js: the telemetry ingestion thread's entry (a worker thread loads a file of its own).
    assert.deepEqual(all.filter((f) => !/^cli\/(main|ingest-thread|checkpoint-thread|chunks\/[\w-]+)\.js(\.map)?$/.test(f) && !/^telemetry\/[\w-]+\.(js|d\.ts)$/.test(f)), []);
    assert.ok(all.includes(path.join('cli', 'ingest-thread.js')), 'the ingestion thread\'s entry is built');
    assert.ok(all.includes(path.join('cli', 'checkpoint-thread.js')), 'the checkpoint thread\'s entry is built');
    assert.ok(all.includes(path.join('telemetry', 'index.js')) && all.includes(path.join('telemetry', 'index.d.ts')), all.join('\n'));
    assert.ok(all.some((f) => /^cli\/chunks\/listen-[\w-]+\.js$/.test(f)), 'the HTTP server is a chunk of its own');
    const sources = all.filter((f) => f.endsWith('.map')).flatMap((f) => {
      const map = JSON.parse(fs.readFileSync(path.join(DIST, f), 'utf8')) as { sources: string[] };
      return map.sources.map((s) => path.relative(ROOT, path.resolve(DIST, path.dirname(f), s)));
    });
    for (const s of ['src/cli/main.ts', 'src/store/db.ts', 'src/migration/worker.ts', 'src/http/app.ts', 'node_modules/kysely', 'node_modules/fastify']) {
      assert.ok(sources.some((f) => f.startsWith(s)), `${s} is not in the bundle`);
    }
    // Test-only modules stay out; the native addon is loaded from node_modules at run time.
    assert.deepEqual(sources.filter((f) => f.endsWith('.test.ts') || f.includes('meeting-block/arbitraries') || f.includes('/tsx/') || f.includes('better-sqlite3/')), []);
  });

  it('type-checks src/ with the repository\'s strict settings before it bundles', () => {
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
    assert.equal(build.compilerOptions.noEmit, true, 'tsc only checks; esbuild writes the bundle');
    assert.ok(build.files?.every((f) => f.startsWith('./src/') && !f.endsWith('.test.ts')), 'the build checks src/ only');
  });

  it('refuses to bundle sources that do not type-check, and leaves no dist/ behind', { timeout: 180_000 }, () => {
    // A copy of the project (node_modules linked) with one type error added to src/.
    const copy = path.join(tmp, 'broken-project');
    for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) fs.cpSync(path.join(ROOT, f), path.join(copy, f));
    for (const d of ['src', 'scripts']) fs.cpSync(path.join(ROOT, d), path.join(copy, d), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    fs.mkdirSync(path.join(copy, 'dist', 'cli'), { recursive: true });
    fs.writeFileSync(path.join(copy, 'dist', 'cli', 'main.js'), '// an old build\n');
    fs.writeFileSync(path.join(copy, 'src', 'broken.ts'), "export const pinLength: number = 'seven';\n");
    const r = spawnSync(process.execPath, [path.join(copy, 'scripts', 'build.mjs')], { cwd: copy, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /src\/broken\.ts.*error TS2322/);
    assert.match(r.stderr, /the type check of src\/ failed \(above\); nothing was built/);
    assert.equal(fs.existsSync(path.join(copy, 'dist')), false, 'no dist/ (an old one would run stale code)');
  });

  it('bin/mms.js help runs dist/ without loading tsx, and finds what src reads beside itself (package.json)', () => {
    const r = mms(['help']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.match(r.out, /^Cmdlets:$/m);
    assert.match(r.out, new RegExp(`^mms ${VERSION.replace(/\./g, '\\.')}: Meeting Migration Service`));
    assert.ok(r.loaded.includes(pathToFileURL(MAIN).href), `dist/cli/main.js was not loaded:\n${r.loaded.join('\n')}`);
    // The bundle: the only files loaded are bin/mms.js, dist/cli/main.js, its shared chunks and the native SQLite
    // addon's package; never the HTTP server's chunk (only mms serve imports it).
    const files = r.loaded.filter((u) => u.startsWith('file:'));
    const addon = pathToFileURL(path.join(ROOT, 'node_modules', 'better-sqlite3')).href;
    const chunks = pathToFileURL(path.join(DIST, 'cli', 'chunks')).href;
    assert.deepEqual(files.filter((u) => u !== pathToFileURL(BIN).href && u !== pathToFileURL(MAIN).href && !u.startsWith(addon) && !u.startsWith(chunks)), []);
    assert.deepEqual(files.filter((u) => u.startsWith(`${chunks}/listen-`)), []);
  });

  it('a cmdlet on the SQLite default loads neither the PostgreSQL driver, the mail transport, Ajv, mms serve nor its logger (issue 13: cold-call latency)', () => {
    const env = { MMS_DATABASE_URL: path.join(tmp, 'lean.sqlite') };
    const made = mms(['New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com'], env);
    assert.equal(made.code, 0, made.err);
    const r = mms(['Get-CsTenantMigrationConfiguration'], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /MeetingMigrationEnabled/);
    // What each loaded chunk was built from, by its source map.
    const chunks = r.loaded.filter((u) => u.startsWith(pathToFileURL(path.join(DIST, 'cli')).href) && u.endsWith('.js'));
    assert.ok(chunks.length > 1, chunks.join('\n'));
    const sources = chunks.flatMap((u) => {
      const file = new URL(u).pathname;
      const map = JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
      return map.sources.map((s) => path.relative(ROOT, path.resolve(path.dirname(file), s)));
    });
    assert.ok(sources.some((s) => s.startsWith('node_modules/kysely')), 'the sources of the loaded chunks are read');
    const unwanted = sources.filter((s) => /^node_modules\/(pg|pg-protocol|pg-pool|nodemailer|pino|ajv)\//.test(s) || s === 'src/cli/serve.ts');
    assert.deepEqual(unwanted, []);
  });

  it('runs the sources through tsx, saying so in one line with the fix, when src/ is newer than dist/', () => {
    // A copy of the project (node_modules linked) whose build is older than its sources: the project's own dist/ is
    // left alone, since the files running beside this one start it (and would rebuild a stale one under this test).
    const copy = path.join(tmp, 'stale-project');
    for (const f of ['package.json', 'tsconfig.json']) fs.cpSync(path.join(ROOT, f), path.join(copy, f));
    for (const d of ['bin', 'src']) fs.cpSync(path.join(ROOT, d), path.join(copy, d), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    const main = path.join(copy, 'dist', 'cli', 'main.js');
    fs.mkdirSync(path.dirname(main), { recursive: true });
    fs.writeFileSync(main, 'throw new Error("the stale build ran");\n');
    fs.utimesSync(main, new Date(0), new Date(0));
    const r = mms(['--version'], {}, copy);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), `mms ${VERSION}`);
    assert.match(r.err, /^mms: src\/ changed since dist\/ was built; running the TypeScript sources through tsx \(slower\): run npm run build in .+\n$/);
    assert.ok(r.loaded.includes(pathToFileURL(path.join(copy, 'src', 'cli', 'main.ts')).href), r.loaded.join('\n'));
    assert.ok(!r.loaded.includes(pathToFileURL(main).href));
  });

  it('with MMS_DEBUG=1 a failure\'s stack names the src/ lines, through the bundle\'s source map', () => {
    const r = mms(['Get-CsTenantMigrationConfiguration'], { MMS_DATABASE_URL: path.join(tmp, 'empty.sqlite'), MMS_DEBUG: '1' });
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /^mms: there is no tenant yet/);
    assert.match(r.err, /at .*src\/directory\/context\.ts:\d+:\d+/, r.err);
    assert.doesNotMatch(r.err, /dist\/cli\/main\.js/, 'every frame of ours is mapped back');
  });
});

for (const t of TEST_DATABASES) {
  describe(`${t.name}: the bundle writes and reads`, { skip: t.skip }, () => {
    before(ensureBuiltDist, { timeout: 300_000 });

    it('New-MmsTenant, then a read, through dist/ (the database driver is inside the bundle)', async () => {
      const { db, url, drop } = await t.fresh();
      await db.close();
      try {
        const made = mms(['New-MmsTenant', '-Name', 'Fabrikam', '-Domain', 'fabrikam.com'], { MMS_DATABASE_URL: url });
        assert.equal(made.code, 0, made.err);
        const r = mms(['Get-CsTenantMigrationConfiguration', '--json'], { MMS_DATABASE_URL: url });
        assert.equal(r.code, 0, r.err);
        assert.equal(r.err, '');
        assert.deepEqual(JSON.parse(r.out), { Identity: 'Global', MeetingMigrationEnabled: true, MeetingMigrationSourceMeetingTypes: 'All', MeetingMigrationTargetMeetingTypes: 'Teams' });
        assert.ok(r.loaded.includes(pathToFileURL(MAIN).href));
      } finally {
        await drop();
      }
    });
  });
}
