// The test entry (`npm test`): says once whether the PostgreSQL half runs, builds dist/ when it is older than src/
// (the compiled mms that the process, browser and crash tests start), then runs every *.test.ts file with node's
// test runner, two files at a time (MMS_TEST_CONCURRENCY): most files spend their time waiting on a child process,
// a server or a browser, and each file has databases, ports and temp directories of its own. Node 20's runner
// does not expand globs, so the files are listed here. Extra arguments are passed through (e.g.
// `npm test -- --test-name-pattern=sqlite`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { preflightLine } from './helpers/databases.js';
import { ensureBuiltDist } from './helpers/built-dist.js';
import { dropSharedTemplates } from './helpers/demo-template-drop.js';
import { SHARED_DIR_ENV } from './helpers/demo-template-env.js';

function find(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : find(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

// The longest files start first, longest first (each over 20 s alone on the 2-core machine), so that the run does
// not end with one of them alone on a core: several of them sort late (smtp-*, teams-*, telemetry-*).
const LONGEST_FIRST = [
  'crash', 'caldav-crash', 'admin-center', 'telemetry-clients', 'admin-migrations', 'admin-dashboard', 'admin-users',
  'admin-bridges-settings-audit', 'teams-upgrade-admin', 'admin-telemetry', 'telemetry-pool', 'demo', 'telemetry-hardening',
  'smtp-serve', 'cli-build', 'sigterm', 'teams-upgrade-triggers', 'smtp-delivery', 'query-plans',
].map((n) => path.join('test', `${n}.test.ts`));

console.log(preflightLine());
const args = process.argv.slice(2);
const named = args.filter((a) => a.endsWith('.test.ts'));
const all = named.length ? named : [...find('test'), ...find('src')].sort();
const files = [...LONGEST_FIRST.filter((f) => all.includes(f)), ...all.filter((f) => !LONGEST_FIRST.includes(f))];
const flags = args.filter((a) => !a.endsWith('.test.ts'));
const reporter = flags.some((f) => f.startsWith('--test-reporter')) ? [] : ['--test-reporter=spec'];
const concurrency = Number(process.env.MMS_TEST_CONCURRENCY ?? 2);
ensureBuiltDist();
// What the files of this run share: the demo organization's templates (helpers/demo-template.ts), dropped at the end.
const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-run-'));
// Ctrl+C stops the test runner (same process group); this process outlives it to drop the templates, then exits.
process.on('SIGINT', () => undefined);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporter, `--test-concurrency=${concurrency}`, ...flags, ...files], {
  stdio: 'inherit',
  env: { ...process.env, TZ: 'UTC', [SHARED_DIR_ENV]: shared },
});
await dropSharedTemplates(shared);
process.exit(r.status ?? 1);
