// The process entry of `mms`: wires the real streams, cmdlet table and worker into runCli.
import { CMDLETS } from './cmdlets/index.js';
import { runCli } from './run-cli.js';

// `mms … | head` closes the pipe early; that ends the output, it is not a failure worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

process.exitCode = await runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, env: process.env, isTty: process.stdout.isTTY === true },
  CMDLETS,
  // Loaded only for `mms serve` (the logger, the worker, the outbox sender and their packages): a cmdlet does not pay for it.
  async (config) => (await import('./serve.js')).serve(config, CMDLETS),
);
// Opt-in (cli-telemetry.ts); loaded only then, so a plain run does not pay for it.
if (process.env.MMS_TELEMETRY_INGESTION_KEY) await (await import('./cli-telemetry.js')).reportCliRun(process.argv.slice(2), process.exitCode, process.env, CMDLETS, process.stderr);
