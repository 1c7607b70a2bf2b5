// A telemetry world on a real `mms serve` (issue 11 §6: the SDK against the real endpoint over HTTP): a fresh
// database with tenant Contoso and its ingestion key, made with the real cmdlets, and a service started on a port
// chosen beforehand — so a client can be pointed at it while it is still down, and find it there once it starts.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { sqlitePath } from '../../src/store/index.js';
import { parseTelemetryKey, Pseudonyms } from '../../src/telemetry/index.js';
import { runMms, type CliOutcome } from './cli-run.js';
import type { TestDatabase } from './databases.js';
import { startWorker, stopWorker, type WorkerProcess } from './worker-process.js';

/** A loopback port nothing listens on (taken and given back). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

export interface ServedTelemetry {
  readonly fresh: Awaited<ReturnType<TestDatabase['fresh']>>;
  readonly url: string;
  readonly key: string;
  /** MMS_* of the database (and MMS_TELEMETRY_KEY on PostgreSQL), for cmdlets and child processes. */
  readonly env: Record<string, string>;
  readonly pseudonyms: Pseudonyms;
  mms(...argv: string[]): Promise<CliOutcome>;
  /** Starts `mms serve` on the world's port; resolves once it answers HTTP. */
  start(): Promise<WorkerProcess>;
  close(): Promise<void>;
}

export async function servedTelemetry(t: TestDatabase): Promise<ServedTelemetry> {
  const fresh = await t.fresh();
  const env: Record<string, string> = { MMS_DATABASE_URL: fresh.url, MMS_ACTOR: 'tester', MMS_TENANT: 'Contoso' };
  if (t.name === 'postgres') env.MMS_TELEMETRY_KEY = randomBytes(32).toString('base64');
  const mms = (...argv: string[]) => runMms(env, Date.now, argv);
  const made = await mms('New-MmsTenant', 'Contoso', '-Domain', 'contoso.com');
  if (made.code !== 0) throw new Error(made.err);
  const k = await mms('New-MmsTelemetryIngestionKey', '--json');
  if (k.code !== 0) throw new Error(k.err);
  const port = await freePort();
  let worker: WorkerProcess | undefined;
  return {
    fresh, env, mms, url: `http://127.0.0.1:${port}`, key: (JSON.parse(k.out) as { IngestionKey: string }).IngestionKey,
    pseudonyms: new Pseudonyms({
      telemetryKey: env.MMS_TELEMETRY_KEY ? parseTelemetryKey(env.MMS_TELEMETRY_KEY) : undefined,
      dialect: fresh.db.dialect,
      sqliteFile: fresh.db.dialect === 'sqlite' ? sqlitePath(fresh.url) : undefined,
    }),
    async start() {
      worker = startWorker({ url: fresh.url, leaseMs: 60_000, pollMs: 1000, batchSize: 50, env: { ...env, MMS_HTTP_ADDRESS: `127.0.0.1:${port}` } });
      await worker.waitForLog('the API listening', (r) => r.msg?.startsWith('REST API listening') === true, { stallMs: 60_000, from: 0 });
      return worker;
    },
    async close() {
      if (worker?.alive) await stopWorker(worker);
      await fresh.drop();
    },
  };
}
