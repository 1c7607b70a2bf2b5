// An ingestion thread (ingest-pool.ts starts them): prepares the batches the main thread hands it, one at a time, with
// the deployment's telemetry key, which it is given once when it starts (workerData) and derives the per-tenant,
// per-epoch keys from itself. A batch that throws (a defect, never input: prepareBatch refuses bad input per event)
// is answered with the error's message; anything that ends the thread fails only the batches it held.
import { parentPort, workerData } from 'node:worker_threads';
import { loadEventValidators } from './events.js';
import { prepareBatch, type PrepareJob } from './ingest-prepare.js';
import { Pseudonyms } from './keys.js';

/** A batch for the thread, and its answer. */
export interface ThreadRequest {
  readonly id: number;
  readonly job: PrepareJob;
}
export type ThreadAnswer = { readonly id: number; readonly prepared: ReturnType<typeof prepareBatch> } | { readonly id: number; readonly failure: string } | { readonly ready: true };

const port = parentPort;
if (port) {
  const { masterKey } = workerData as { masterKey: Uint8Array };
  // The key is given, so the dialect and key file are never consulted.
  const pseudonyms = new Pseudonyms({ telemetryKey: Buffer.from(masterKey), dialect: 'sqlite' });
  // The pool sends batches only once the thread says it is ready, which it does once its validators are loaded.
  port.on('message', (m: ThreadRequest) => {
    let answer: ThreadAnswer;
    try {
      answer = { id: m.id, prepared: prepareBatch(m.job, pseudonyms) };
    } catch (err) {
      answer = { id: m.id, failure: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(answer);
  });
  void loadEventValidators().then(() => port.postMessage({ ready: true } satisfies ThreadAnswer));
}
