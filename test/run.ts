// The test entry (`npm test`): says once whether the PostgreSQL half runs, then runs every *.test.ts
// file with node's test runner. Node 20's runner does not expand globs, so the files are listed here.
// Extra arguments are passed through (e.g. `npm test -- --test-name-pattern=sqlite`).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { preflightLine } from './helpers/databases.js';

function find(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : find(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

console.log(preflightLine());
const args = process.argv.slice(2);
const named = args.filter((a) => a.endsWith('.test.ts'));
const files = named.length ? named : [...find('test'), ...find('src')].sort();
const flags = args.filter((a) => !a.endsWith('.test.ts'));
const reporter = flags.some((f) => f.startsWith('--test-reporter')) ? [] : ['--test-reporter=spec'];
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporter, '--test-concurrency=1', ...flags, ...files], {
  stdio: 'inherit',
  env: { ...process.env, TZ: 'UTC' },
});
process.exit(r.status ?? 1);
