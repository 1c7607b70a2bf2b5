#!/usr/bin/env node
// `mms` (and `npm start`, which runs `node bin/mms.js serve`): runs the bundled JavaScript in dist/, which
// `npm install` builds (the `prepare` script: `npm run build`, see scripts/build.mjs). A checkout whose dist/ is missing, or older than a
// source in src/ (a `git pull` or an edit since the last build), runs the TypeScript sources through tsx instead —
// in this same process, so signals still reach the service — and says so in one line on stderr with the fix. It
// falls back rather than fails so that a service upgraded with `git pull` keeps running the code it was given
// (only slower, about a second a command) instead of running stale code or not starting at all.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = path.join(root, 'dist', 'cli', 'main.js');

/** Newest modification time of the sources the build compiles (tests excluded), 0 when there are none. */
function newestSource(dir) {
  let newest = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

let builtAt;
try {
  builtAt = fs.statSync(compiled).mtimeMs;
} catch {
  builtAt = undefined;
}
const stale = builtAt === undefined ? 'dist/ is missing' : newestSource(path.join(root, 'src')) > builtAt ? 'src/ changed since dist/ was built' : undefined;

if (stale === undefined) {
  // The bundle's source map turns stack traces back into src/ lines; reading it costs time, so only when asked.
  if ((process.env.MMS_DEBUG ?? '').split(',').map((s) => s.trim()).includes('1')) process.setSourceMapsEnabled(true);
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
} else {
  process.stderr.write(`mms: ${stale}; running the TypeScript sources through tsx (slower): run npm run build in ${root}\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
