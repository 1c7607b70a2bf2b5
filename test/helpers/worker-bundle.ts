// The worker program built once into one JavaScript file, for tests that start dozens of `mms serve` processes:
// through tsx each start resolves and transpiles every source file again (about 2 s of CPU on a 2-core machine),
// while the same sources bundled by esbuild — the transpiler tsx itself uses — start in a fraction of that. The
// packages stay external (loaded from node_modules as with tsx), so the processes run the same code.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Builds src/cli/main.ts into node_modules/.cache (where node finds the packages); `remove` deletes the build. */
export async function bundleWorker(): Promise<{ entry: string; remove(): void }> {
  const cache = path.join(ROOT, 'node_modules', '.cache');
  fs.mkdirSync(cache, { recursive: true });
  const dir = fs.mkdtempSync(path.join(cache, 'mms-worker-'));
  const entry = path.join(dir, 'main.mjs');
  await build({
    entryPoints: [path.join(ROOT, 'src', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: entry,
    logLevel: 'warning',
  });
  return { entry, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
