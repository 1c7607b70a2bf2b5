import type { Config } from '../config.js';
import type { Db } from '../store/index.js';

/** How a parameter's text becomes a value: see `parse-value.ts` for the accepted forms. */
export type ParamType = 'string' | 'string[]' | 'int' | 'bool' | 'switch' | 'datetime' | 'enum';

/** One declared parameter of a cmdlet, named as in the Microsoft docs. */
export interface ParamSpec {
  /** PascalCase as in the docs: 'Identity', 'MeetingMigrationEnabled'. */
  name: string;
  type: ParamType;
  required?: boolean;
  /** For 'enum': matched case-insensitively, the canonical casing is what the cmdlet receives. */
  values?: readonly string[];
  /** Other names for the same parameter, e.g. `-UserId` for `-Identity`. */
  aliases?: readonly string[];
  /** Binds a bare value by position: `mms Get-MmsMeeting alice@contoso.com` (0 = first). */
  position?: number;
  help: string;
}

/** What a cmdlet gets besides its arguments. */
export interface CmdletContext {
  /** Opened by the framework for cmdlets that need it (`needsDb` not false); reading it otherwise throws. */
  readonly db: Db;
  readonly config: Config;
  /** `-Tenant` value, else MMS_TENANT. */
  readonly tenant: string | undefined;
  /** Injected clock (epoch ms). */
  readonly now: () => number;
  /** Who runs the command (MMS_ACTOR or the OS user name), for the audit log. */
  readonly actor: string;
  readonly stdout: NodeJS.WritableStream;
  readonly isTty: boolean;
  /** Where progress goes (-Wait's bar and lines): stderr, so stdout — and --json — holds the result alone. */
  readonly progress: NodeJS.WritableStream;
  /** Whether `progress` is a terminal: progress is shown only then (a bar redrawn in place). */
  readonly progressIsTty: boolean;
  /**
   * Set when the cmdlet runs for a REST request (http/app.ts): a file parameter's content is the request body or the
   * answer, and its value names a file on the caller's machine (or nothing), which the cmdlet must never open here.
   */
  readonly files?: FileTransfer;
}

/** A file parameter's content carried by a REST request instead of a file of this machine (see CmdletContext.files). */
export interface FileTransfer {
  /** The bytes sent for `param`, and what messages call them. */
  read(param: string): { bytes: Uint8Array; name: string };
  /** Answers `text` as `param`'s file. */
  write(param: string, text: string): void;
}

/** What a cmdlet returns; the framework prints it as a table / list / line, or as JSON with `--json`. */
export type CmdletResult =
  /**
   * `page`: the rows are one page of a listing (-First / -Skip) of `total` rows after skipping `skip`.
   * `keyColumns`: the columns that say which record a row is, never cut on a terminal (default: the first column
   * and the identity-like ones present, see IDENTITY_COLUMNS in format.ts); when the table does not fit even with
   * the other text columns narrowed, the rows print as a list view. `text`: what people see instead of a table
   * (a -WhatIf diff); `--json` still prints the rows.
   */
  | { kind: 'rows'; rows: Record<string, unknown>[]; columns?: string[]; page?: { total: number; skip: number }; keyColumns?: string[]; text?: string }
  /** `failure`: the result is still printed, then this one line goes to stderr and the exit code is 1. */
  | { kind: 'object'; value: Record<string, unknown>; failure?: string }
  | { kind: 'message'; text: string }
  | { kind: 'none' };

/**
 * One `mms` command. Arguments arrive keyed by the canonical parameter name (also when an alias or a prefix
 * was typed); a parameter that was not given is absent (undefined), including switches, so `Set-*` cmdlets can
 * tell "not given" from "false". Values: string, string[], number (int), boolean (bool, switch),
 * number of epoch ms (datetime).
 */
export interface Cmdlet {
  /** 'Get-CsMeetingMigrationStatus' */
  name: string;
  /** One line. */
  synopsis: string;
  params: readonly ParamSpec[];
  /** Full command lines: 'mms Move-CsUser -Identity alice@contoso.com -Target Online'. */
  examples: readonly string[];
  /** Default true: the framework opens the database before `run` and closes it after. */
  needsDb?: boolean;
  /**
   * Whether a warning follows when no `mms serve` worker runs (cli/worker-notice.ts): `queued` for cmdlets that queue
   * migrations (the requests they queued count), `due` for those after which requests a worker would take now count
   * (the status listing, the tenant settings that let held requests run).
   */
  workerNotice?: 'queued' | 'due';
  /** Heading `mms help` groups this cmdlet under; by default derived from the noun. */
  area?: string;
  run(ctx: CmdletContext, args: Record<string, unknown>): Promise<CmdletResult>;
}

/** Parameters every cmdlet accepts without declaring them; a declared parameter of the same name wins. */
export const COMMON_PARAMS: readonly ParamSpec[] = [
  { name: 'Tenant', type: 'string', help: 'Tenant name or domain to act on (default: MMS_TENANT, or the only tenant).' },
  { name: 'Json', type: 'switch', help: 'Print JSON with the documented PascalCase field names instead of a table.' },
];

/** The common parameters that apply to a cmdlet (those it does not declare itself). */
export function commonParamsFor(cmdlet: Cmdlet): ParamSpec[] {
  const declared = new Set(cmdlet.params.flatMap((p) => [p.name, ...(p.aliases ?? [])].map((n) => n.toLowerCase())));
  return COMMON_PARAMS.filter((p) => !declared.has(p.name.toLowerCase()));
}

/**
 * Checks a cmdlet table for mistakes the parser cannot recover from (duplicate names, an enum without values,
 * two parameters on one position). Returns one line per problem; the test suite asserts it is empty.
 */
export function validateCmdlets(cmdlets: readonly Cmdlet[]): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const c of cmdlets) {
    if (!/^[A-Z][a-z]+-[A-Za-z]+$/.test(c.name)) problems.push(`${c.name}: name is not Verb-Noun`);
    if (names.has(c.name.toLowerCase())) problems.push(`${c.name}: listed twice`);
    names.add(c.name.toLowerCase());
    if (!c.synopsis.trim() || c.synopsis.includes('\n')) problems.push(`${c.name}: synopsis must be one non-empty line`);
    if (c.examples.length === 0) problems.push(`${c.name}: needs at least one example`);
    const seen = new Set<string>();
    const positions = new Set<number>();
    for (const p of c.params) {
      if (!/^[A-Z][A-Za-z0-9]*$/.test(p.name)) problems.push(`${c.name} -${p.name}: name is not PascalCase`);
      for (const n of [p.name, ...(p.aliases ?? [])]) {
        if (seen.has(n.toLowerCase())) problems.push(`${c.name} -${n}: declared twice`);
        seen.add(n.toLowerCase());
      }
      if (p.type === 'enum' && !p.values?.length) problems.push(`${c.name} -${p.name}: enum without values`);
      if (p.position !== undefined) {
        if (positions.has(p.position)) problems.push(`${c.name} -${p.name}: position ${p.position} used twice`);
        if (p.type === 'switch') problems.push(`${c.name} -${p.name}: a switch cannot be positional`);
        positions.add(p.position);
      }
      if (!p.help.trim()) problems.push(`${c.name} -${p.name}: no help text`);
    }
  }
  return problems;
}
