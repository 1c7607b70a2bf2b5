// The compiled `mms` (dist/, what bin/mms.js and `npm start` run): tests that start it make sure it is built from
// the sources as they are now, so they never pass on a stale build. bin/mms.js itself is the judge: when dist/ is
// missing or older than src/ it says so on stderr (and runs the sources through tsx); then this builds it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'mms.js');

/** The environment a child `mms` gets: no MMS_* of ours, no loader in NODE_OPTIONS, not a test file itself. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('MMS_') && k !== 'NODE_OPTIONS' && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  }
  // A service it starts answers HTTP on a free port, not on 8080 that a developer's own mms serve may hold.
  return { ...env, TZ: 'UTC', MMS_HTTP_ADDRESS: '127.0.0.1:0', ...extra };
}

/** What `node bin/mms.js --version` writes to stderr: empty when it runs a dist/ as new as src/. */
export function staleNotice(): string {
  const r = spawnSync(process.execPath, [BIN, '--version'], { cwd: ROOT, env: childEnv({}), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node bin/mms.js --version exited ${r.status}: ${r.stderr}`);
  return r.stderr;
}

/**
 * Builds dist/ (`npm run build`) unless bin/mms.js already runs it; fails when even a fresh build is not used.
 * Synchronous, so the worker helper can call it on its first start; `npm test` builds before any file runs, so
 * under the runner's concurrency no two files build at once.
 */
export function ensureBuiltDist(): void {
  if (!staleNotice()) return;
  const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, env: childEnv({}), stdio: ['ignore', 'ignore', 'inherit'] });
  if (b.status !== 0) throw new Error(`npm run build exited ${b.status}${b.error ? `: ${b.error.message}` : ''}`);
  const still = staleNotice();
  if (still) throw new Error(`bin/mms.js does not run dist/ even after npm run build: ${still}`);
}
