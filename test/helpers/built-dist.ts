// The compiled `mms` (dist/, what bin/mms.js and `npm start` run): tests that start it make sure it is built from
// the sources as they are now, so they never pass on a stale build. bin/mms.js itself is the judge: when dist/ is
// missing or older than src/ it says so on stderr (and runs the sources through tsx); then this builds it.
import { spawn, spawnSync } from 'node:child_process';
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

/** Builds dist/ (`npm run build`) unless bin/mms.js already runs it; fails when even a fresh build is not used. */
export async function ensureBuiltDist(): Promise<void> {
  if (!staleNotice()) return;
  const code = await new Promise<number | null>((resolve, reject) => {
    const b = spawn('npm', ['run', 'build'], { cwd: ROOT, env: childEnv({}), stdio: ['ignore', 'ignore', 'inherit'] });
    b.once('error', reject);
    b.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`npm run build exited ${code}`);
  const still = staleNotice();
  if (still) throw new Error(`bin/mms.js does not run dist/ even after npm run build: ${still}`);
}
