// The `mms` command as a function: argv in, output on the given streams, exit code out. No process.exit here.
import os from 'node:os';
import { loadConfig, type Config } from '../config.js';
import { MmsError, usageError } from '../domain/errors.js';
import { busyError, isBusyError } from '../store/index.js';
import { openDatabase, type Db } from '../store/index.js';
import type { Cmdlet, CmdletContext, CmdletResult } from './cmdlet.js';
import { formatResult, pageNotice } from './format.js';
import { noticeText } from './notice.js';
import { workerNotice } from './worker-notice.js';
import { mmsVersion, renderCmdletHelp, renderOverview, renderServeHelp } from './help.js';
import { isHelpRequest, parseCmdletArgs, type ParsedArgs } from './parse-args.js';
import { runRemote } from './remote.js';
import { closestCmdlets, orList } from './suggest.js';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (tables are then cut to its width); default: stdout.isTTY. */
  readonly isTty?: boolean;
  readonly now?: () => number;
}

/** Exit codes: success, failure, usage or configuration error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const HELP_WORDS = new Set(['help', '-?', '--help', '-h', '-help']);

/** Finds a cmdlet by name, any case; an unknown name is a Usage error naming the closest ones. */
export function findCmdlet(cmdlets: readonly Cmdlet[], typed: string): Cmdlet {
  const hit = cmdlets.find((c) => c.name.toLowerCase() === typed.toLowerCase());
  if (hit) return hit;
  const close = closestCmdlets(typed, cmdlets.map((c) => c.name));
  const fix = close.length ? `did you mean ${orList(close)}? (mms help lists every cmdlet)` : 'mms help lists every cmdlet';
  throw usageError(`unknown cmdlet ${JSON.stringify(typed)}; ${fix}`);
}

/** Who is running the command, for the audit log (and, hashed, the CLI's telemetry): MMS_ACTOR, else the OS account. */
export function actorOf(env: NodeJS.ProcessEnv): string {
  if (env.MMS_ACTOR?.trim()) return env.MMS_ACTOR.trim();
  try {
    return os.userInfo().username;
  } catch {
    return env.USER || env.USERNAME || 'unknown';
  }
}

function terminalWidth(io: CliIo): number {
  const columns = (io.stdout as { columns?: unknown }).columns;
  if (typeof columns === 'number' && columns > 0) return columns;
  const fromEnv = Number(io.env.COLUMNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 80;
}

/** MMS_DEBUG=1 (alone or in a list such as 1,tx): stack traces under error lines. */
const stackTraces = (env: NodeJS.ProcessEnv): boolean => (env.MMS_DEBUG ?? '').split(',').map((s) => s.trim()).includes('1');

/** Reports a failure as one `mms: …` line on stderr and returns its exit code. */
function report(err: unknown, io: CliIo, what: string): number {
  const line = (s: string): string => s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  if (err instanceof MmsError) {
    io.stderr.write(`mms: ${line(err.message)}\n`);
    if (stackTraces(io.env) && err.stack) io.stderr.write(`${err.stack}\n`);
    return err.code === 'Usage' || err.code === 'Config' ? EXIT.usage : EXIT.failure;
  }
  if (isBusyError(err)) return report(busyError(io.env.MMS_DATABASE_URL || './data/mms.sqlite'), io, what);
  const message = err instanceof Error ? err.message || err.name : String(err);
  const debug = stackTraces(io.env);
  io.stderr.write(`mms: ${what} failed: ${line(message)}${debug ? '' : ' (set MMS_DEBUG=1 to see where)'}\n`);
  if (debug && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  return EXIT.failure;
}

/**
 * Runs a cmdlet in this process, on the database (opened only for cmdlets that need it, and always closed), and
 * says whether requests wait with no worker running (worker-notice.ts: after the status and trigger cmdlets).
 */
async function runLocal(cmdlet: Cmdlet, parsed: ParsedArgs, config: Config, io: CliIo, isTty: boolean): Promise<{ result: CmdletResult; noWorker: string | undefined }> {
  const db: Db | undefined = cmdlet.needsDb === false ? undefined : await openDatabase(config.databaseUrl, { busyWaitMs: config.busyWaitMs });
  try {
    const ctx: CmdletContext = {
      get db(): Db {
        if (!db) throw new Error(`${cmdlet.name} declares needsDb: false but reads ctx.db; remove needsDb: false from it`);
        return db;
      },
      config,
      tenant: parsed.tenant ?? config.tenant,
      now: io.now ?? Date.now,
      actor: actorOf(io.env),
      stdout: io.stdout,
      isTty,
      progress: io.stderr,
      progressIsTty: (io.stderr as { isTTY?: unknown }).isTTY === true,
    };
    const result = await cmdlet.run(ctx, parsed.args);
    // Never fails the command: a warning that cannot be read is left out.
    return { result, noWorker: await workerNotice(cmdlet, result, db, ctx.tenant, ctx.now()) };
  } finally {
    await db?.close().catch(() => undefined);
  }
}

/**
 * Runs `mms <Cmdlet> [-Param value …] [--json]`, `mms help [<Cmdlet>]`, `mms serve` or `mms --version` and
 * returns the exit code: 0 success, 1 failure, 2 usage or configuration error. Errors are one line on stderr.
 * The database is opened only for cmdlets that need it and is always closed.
 */
export async function runCli(
  argv: string[],
  io: CliIo,
  cmdlets: readonly Cmdlet[],
  serve?: (config: Config) => Promise<void>,
): Promise<number> {
  const first = argv[0];
  let what = 'mms';
  try {
    if (first === undefined || HELP_WORDS.has(first.toLowerCase())) {
      const topic = argv[1];
      if (argv.length > 2) throw usageError(`mms help takes one cmdlet name; try mms help ${topic}`);
      if (topic === undefined) io.stdout.write(renderOverview(cmdlets));
      else if (topic.toLowerCase() === 'serve') io.stdout.write(renderServeHelp());
      else io.stdout.write(renderCmdletHelp(findCmdlet(cmdlets, topic)));
      return EXIT.ok;
    }
    if (first.toLowerCase() === '--version' || first.toLowerCase() === '-version') {
      io.stdout.write(`mms ${mmsVersion()}\n`);
      return EXIT.ok;
    }
    if (first.toLowerCase() === 'serve') {
      what = 'serve';
      if (isHelpRequest(argv.slice(1))) {
        io.stdout.write(renderServeHelp());
        return EXIT.ok;
      }
      if (argv.length > 1) throw usageError('mms serve takes no parameters; configure it with the MMS_* environment variables (mms help lists them)');
      if (!serve) throw new MmsError('Conflict', 'mms serve is not available in this build; run it from a full checkout');
      await serve(loadConfig(io.env));
      return EXIT.ok;
    }
    // `mms --json Get-…` is accepted too: a leading --json moves behind the cmdlet name.
    const rest = argv.slice(1);
    let name = first;
    if (/^--?json$/i.test(first) && argv[1] !== undefined && !argv[1].startsWith('-')) {
      name = argv[1];
      rest.splice(0, 1, first);
    } else if (first.startsWith('-')) {
      throw usageError(`expected a cmdlet name before ${first}: mms <Cmdlet> [-Parameter value …] (mms help lists every cmdlet)`);
    }
    const cmdlet = findCmdlet(cmdlets, name);
    what = cmdlet.name;
    if (isHelpRequest(rest)) {
      io.stdout.write(renderCmdletHelp(cmdlet));
      return EXIT.ok;
    }
    const parsed = parseCmdletArgs(cmdlet, rest);
    const config = loadConfig(io.env);
    const isTty = io.isTty ?? (io.stdout as { isTTY?: unknown }).isTTY === true;
    // A remote mms (MMS_SERVER_URL) sends the cmdlet to the service instead of opening a database (remote.ts). The
    // service answering it runs a worker itself, so only a local run looks for one (the no-worker warning).
    const remote = cmdlet.needsDb !== false ? config.server : undefined;
    const { result, noWorker } = remote ? { result: await runRemote(cmdlet, parsed, config, remote, io.stdout), noWorker: undefined } : await runLocal(cmdlet, parsed, config, io, isTty);
    io.stdout.write(formatResult(result, { json: parsed.json, width: isTty ? terminalWidth(io) : undefined }));
    // A listing that shows fewer rows than exist says so, on stderr so --json stays a plain array for scripts.
    const cut = pageNotice(result, cmdlet.name);
    if (cut) io.stderr.write(cut);
    const notes = noticeText(result) + (noWorker ?? '');
    if (notes) io.stderr.write(notes);
    // A result that reports its own failure (an import that brought nothing in) still shows what it found.
    if (result.kind === 'object' && result.failure) throw new MmsError('Invalid', result.failure);
    return EXIT.ok;
  } catch (err) {
    return report(err, io, what);
  }
}
