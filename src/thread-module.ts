// Worker threads that run one of our modules: the telemetry ingestion threads (telemetry/ingest-pool.ts) and the
// SQLite checkpoint thread (store/background-checkpoints.ts). A thread starts from a file, and which file depends on
// how mms runs: the TypeScript source under tsx, or its own entry of the bundle under dist/cli/ (scripts/build.mjs).
import { Worker } from 'node:worker_threads';
import { packageRoot } from './package-root.js';

/**
 * Starts `source` (a .ts module's URL, beside its caller) as a thread when mms runs from its sources, else the
 * bundle's dist/cli/<entry>.js. Throws `missing` when the bundle's entry cannot be found (a broken install).
 */
export function startModuleThread(source: URL, entry: string, workerData: unknown, missing: string): Worker {
  if (import.meta.url.endsWith('.ts')) {
    // A thread does not inherit the main thread's tsx hooks: it registers them before it imports the module.
    const tsx = import.meta.resolve('tsx/esm/api');
    return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(source.href)}); })`, { eval: true, execArgv: [], workerData });
  }
  const root = packageRoot();
  if (!root) throw new Error(missing);
  return new Worker(new URL(`dist/cli/${entry}.js`, root), { workerData });
}
