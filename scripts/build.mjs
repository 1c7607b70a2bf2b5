// `npm run build` (also run by `npm install`, through `prepare`): type-checks src/ with the repository's strict
// settings (tsconfig.build.json), then bundles it with esbuild into one file, dist/cli/main.js, which bin/mms.js and
// `npm start` run. One file, not one per source: a cold `mms` call spends nearly all its time loading modules (about
// 600 files through tsc's output and node_modules: 340 ms against 50 ms for node alone), and one bundle of the same
// code loads in about 100 ms (issue 9 §1). Kept outside the bundle: better-sqlite3 (a native addon, found through
// node_modules at run time), pg-native (pg's optional native driver, never installed) and @fastify/swagger-ui. A source map beside it
// turns stack traces back into src/ lines when MMS_DEBUG=1 (bin/mms.js enables it only then: parsing it costs time).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');

// A failed build leaves no dist/ at all rather than an old one: bin/mms.js then says so and runs the sources.
fs.rmSync(dist, { recursive: true, force: true });

const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  process.stderr.write('npm run build: the type check of src/ failed (above); nothing was built\n');
  process.exit(1);
}

await build({
  absWorkingDir: root,
  // The threads' modules are entries of their own: a worker thread starts from a file (src/thread-module.ts): the
  // telemetry ingestion threads (telemetry/ingest-pool.ts) and the SQLite checkpoint thread (store/background-checkpoints.ts).
  entryPoints: { main: 'src/cli/main.ts', 'ingest-thread': 'src/telemetry/ingest-thread.ts', 'checkpoint-thread': 'src/store/checkpoint-thread.ts' },
  outdir: 'dist/cli',
  // The HTTP server (Fastify, the API, the admin center) is imported only by `mms serve`, dynamically: split into
  // chunks of its own, a cmdlet never reads it (4.7 MB in one file cost a cold call ~20 ms of parsing).
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // @fastify/swagger-ui serves files that live beside its own code (the /api/docs page), so it stays a package.
  external: ['better-sqlite3', 'pg-native', '@fastify/swagger-ui'],
  // The CommonJS packages inside (pg, nodemailer, pino…) call require() for node's own modules; an ES module has
  // no require, so the bundle makes one for itself.
  banner: { js: "import { createRequire as __mmsCreateRequire } from 'node:module';\nconst require = __mmsCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
});

// The client telemetry SDK (package.json "exports" ./telemetry): one ES module for Node 20 and browsers alike
// (platform neutral; node:fs is imported only by its file DeviceId store, so it stays outside), plus its type
// declarations (tsconfig.sdk.json). The admin center serves this same file to the browser (http/admin/telemetry-relay.ts).
await build({ absWorkingDir: root, entryPoints: ['src/telemetry/sdk/index.ts'], outfile: 'dist/telemetry/index.js', bundle: true, platform: 'neutral', format: 'esm', target: 'es2022', external: ['node:*'], logLevel: 'warning' });
const dts = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.sdk.json')], { stdio: 'inherit' });
if (dts.status !== 0 || !fs.existsSync(path.join(dist, 'telemetry', 'index.d.ts'))) {
  fs.rmSync(dist, { recursive: true, force: true });
  process.stderr.write('npm run build: the telemetry SDK\'s type declarations could not be written (above); nothing was built\n');
  process.exit(1);
}
