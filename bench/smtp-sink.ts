// The bench's side of the SMTP sink (bench/smtp-sink-main.ts, a separate process): start it, read and reset its
// counts, stop it.
import { fork } from 'node:child_process';
import path from 'node:path';
import { REPO } from './worker-process.js';

export interface SinkCounts {
  readonly messages: number;
  readonly bytes: number;
}

export interface SmtpSink {
  readonly port: number;
  /** MMS_SMTP_URL of the sink: plain SMTP on loopback. */
  readonly url: string;
  readonly pid: number;
  counts(): Promise<SinkCounts>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSink(): Promise<SmtpSink> {
  const child = fork(path.join(REPO, 'bench', 'smtp-sink-main.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const next = <T>(): Promise<T> => new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`bench: the SMTP sink exited (${code}): ${stderr.trim().slice(-1000)}`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as T);
    });
  });
  const { port } = await next<{ port: number }>();
  const ask = async (what: 'count' | 'reset') => {
    const reply = next<SinkCounts>();
    child.send(what);
    return reply;
  };
  return {
    port,
    url: `smtp://127.0.0.1:${port}?tls=none`,
    pid: child.pid as number,
    counts: () => ask('count'),
    reset: async () => { await ask('reset'); },
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.disconnect();
    }),
  };
}
