// Runs the real `mms` entry (runCli with every cmdlet) in the test process, capturing stdout and stderr.
import { Writable } from 'node:stream';
import { CMDLETS } from '../../src/cli/cmdlets/index.js';
import { runCli } from '../../src/cli/run-cli.js';

export interface CliOutcome {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

function capture() {
  let text = '';
  return { stream: new Writable({ write(c, _e, done) { text += String(c); done(); } }), text: () => text };
}

/** `mms <argv>` against the database at `env.MMS_DATABASE_URL`, on the given clock. */
export async function runMms(env: Record<string, string>, now: () => number, argv: readonly string[]): Promise<CliOutcome> {
  const out = capture();
  const err = capture();
  const code = await runCli([...argv], { stdout: out.stream, stderr: err.stream, isTty: false, now, env }, CMDLETS);
  return { code, out: out.text(), err: err.text() };
}
