// PowerShell-style parameter binding for one cmdlet's command line: `-Name value`, `-Name:value`, unique
// prefixes, aliases, positions, switches, lists. Every mistake is a Usage MmsError with a one-line fix.
import { usageError } from '../domain/errors.js';
import { commonParamsFor, type Cmdlet, type ParamSpec } from './cmdlet.js';
import { isAmPm, isBareDate, isTimeToken, parseValue, SHELL_HINT, typeLabel } from './parse-value.js';
import { andList, closestNames, orList } from './suggest.js';

/** A cmdlet's bound arguments plus the common parameters, taken out. */
export interface ParsedArgs {
  /** Keyed by canonical parameter name; parameters not given are absent. */
  readonly args: Record<string, unknown>;
  /** `-Tenant` if given (and not declared by the cmdlet itself). */
  readonly tenant: string | undefined;
  /** `--json` / `-Json` given. */
  readonly json: boolean;
}

// A parameter token: one or two dashes, a name that starts with a letter, optionally `:value`.
// "-5" or "-" do not match, so negative numbers are always values.
const PARAM_TOKEN = /^--?([A-Za-z][A-Za-z0-9]*)(?::([\s\S]*))?$/;

/** True when the tokens after a cmdlet name ask for its help (`-?` or `--help`, before any `--`). */
export function isHelpRequest(tokens: readonly string[]): boolean {
  for (const t of tokens) {
    if (t === '--') return false;
    if (t === '-?' || t.toLowerCase() === '--help') return true;
  }
  return false;
}

type Resolved = { spec: ParamSpec } | { ambiguous: ParamSpec[] } | undefined;

/** Finds the parameter a typed name means: exact name or alias first, then a unique prefix (as PowerShell does). */
function resolver(all: readonly ParamSpec[]): (typed: string) => Resolved {
  const entries = all.flatMap((spec) => [spec.name, ...(spec.aliases ?? [])].map((n) => ({ key: n.toLowerCase(), spec })));
  return (typed) => {
    const t = typed.toLowerCase();
    const exact = entries.find((e) => e.key === t);
    if (exact) return { spec: exact.spec };
    const specs = [...new Set(entries.filter((e) => e.key.startsWith(t)).map((e) => e.spec))];
    if (specs.length === 1) return { spec: specs[0]! };
    if (specs.length > 1) return { ambiguous: specs };
    return undefined;
  };
}

/** A sample value for a type, used in "needs a value, e.g. …" messages. */
function sample(p: ParamSpec): string {
  switch (p.type) {
    case 'int':
      return '5';
    case 'bool':
    case 'switch':
      return 'true';
    case 'datetime':
      return '2016-10-01';
    case 'enum':
      return p.values?.[0] ?? '<value>';
    case 'string[]':
      return 'a,b';
    default:
      return '<text>';
  }
}

/** The items of a list value `a,b,c` (empty ones dropped), each checked as that parameter's value. */
function listItems(spec: ParamSpec, text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => parseValue(spec, s) as string);
}

/** -StartTime after -EndTime selects nothing: say so instead of printing an empty table. */
function checkTimeRange(bound: ReadonlyMap<ParamSpec, unknown>): void {
  let start: number | undefined;
  let end: number | undefined;
  for (const [spec, value] of bound) {
    if (spec.type !== 'datetime') continue;
    if (spec.name === 'StartTime') start = value as number;
    if (spec.name === 'EndTime') end = value as number;
  }
  if (start !== undefined && end !== undefined && start > end) {
    throw usageError(`-StartTime ${new Date(start).toISOString()} is after -EndTime ${new Date(end).toISOString()}: swap them or give an -EndTime later than -StartTime`);
  }
}

/**
 * Binds the tokens after the cmdlet name to its parameters. Throws a Usage MmsError on: an unknown parameter
 * (naming the closest ones), an ambiguous prefix (naming the candidates), a missing or malformed value, a
 * parameter given twice, an unexpected bare value, or a required parameter left out.
 */
export function parseCmdletArgs(cmdlet: Cmdlet, tokens: readonly string[]): ParsedArgs {
  const common = commonParamsFor(cmdlet);
  const all = [...cmdlet.params, ...common];
  const resolve = resolver(all);
  const bound = new Map<ParamSpec, unknown>();
  const help = `mms help ${cmdlet.name}`;

  /** A parameter waiting for its value(s); `got` counts the values it already has. */
  let pending: { spec: ParamSpec; got: number } | undefined;
  let literal = false; // after `--` nothing is a parameter name

  const bind = (spec: ParamSpec, value: unknown): void => {
    if (spec.type === 'string[]') {
      const prev = (bound.get(spec) as string[] | undefined) ?? [];
      bound.set(spec, [...prev, ...(value as string[])]);
      return;
    }
    if (bound.has(spec)) throw usageError(`-${spec.name} was given twice; give it once (${help})`);
    bound.set(spec, value);
  };

  /** Binds a value token (plus, for a date, a following time and AM/PM); returns how many extra tokens it used. */
  const take = (spec: ParamSpec, i: number): number => {
    const tok = tokens[i]!;
    if (spec.type === 'string[]') {
      const items = listItems(spec, tok);
      if (items.length) {
        bind(spec, items);
        if (pending) pending.got += items.length;
      }
      return 0;
    }
    let text = tok;
    let used = 0;
    if (spec.type === 'datetime' && isBareDate(tok) && tokens[i + 1] !== undefined && isTimeToken(tokens[i + 1]!)) {
      text += ` ${tokens[i + 1]}`;
      used = 1;
      if (tokens[i + 2] !== undefined && isAmPm(tokens[i + 2]!)) {
        text += ` ${tokens[i + 2]}`;
        used = 2;
      }
    }
    bind(spec, parseValue(spec, text));
    return used;
  };

  const needsValue = (spec: ParamSpec, where: string): never => {
    // `-Enabled $false` typed into bash arrives as a bare `-Enabled`: say why.
    const hint = spec.type === 'bool' ? ` (${SHELL_HINT})` : '';
    throw usageError(`-${spec.name} needs a value ${where}: give -${spec.name} <${typeLabel(spec)}>, e.g. -${spec.name} ${sample(spec)}${hint}`);
  };

  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (!literal && tok === '--') {
      literal = true;
      continue;
    }
    const m = literal ? null : PARAM_TOKEN.exec(tok);
    if (m) {
      const typed = m[1]!;
      const r = resolve(typed);
      if (r && 'spec' in r) {
        if (pending && pending.got === 0) needsValue(pending.spec, `before ${tok}`);
        pending = undefined;
        const spec = r.spec;
        const inline = m[2];
        if (spec.type === 'switch') {
          bind(spec, inline === undefined ? true : parseValue(spec, inline));
        } else if (inline !== undefined && inline !== '') {
          // `-Name:value` is complete; `-Name: value` (PowerShell allows the space) falls through to pending.
          if (spec.type === 'string[]') {
            const items = listItems(spec, inline);
            if (!items.length) needsValue(spec, 'after the colon');
            bind(spec, items);
          } else {
            bind(spec, parseValue(spec, inline));
          }
        } else {
          pending = { spec, got: 0 };
        }
        continue;
      }
      // Not a parameter of this cmdlet: a value if one is expected ("-Description -draft-"), else an error.
      if (!(pending && pending.got === 0)) {
        if (r && 'ambiguous' in r) {
          const names = r.ambiguous.map((p) => `-${p.name}`);
          throw usageError(`-${typed} is ambiguous for ${cmdlet.name}: it could be ${orList(names)}; type more of the name`);
        }
        const known = all.flatMap((p) => [p.name, ...(p.aliases ?? [])]);
        const close = closestNames(typed, known).map((n) => `-${n}`);
        const fix = close.length
          ? `did you mean ${orList(close)}?`
          : cmdlet.params.length
            ? `it takes ${cmdlet.params.map((p) => `-${p.name}`).join(', ')}`
            : 'it takes no parameters besides -Tenant and --json';
        throw usageError(`${cmdlet.name} has no parameter -${typed}; ${fix} (${help})`);
      }
    }
    if (pending) {
      const spec = pending.spec;
      i += take(spec, i);
      if (spec.type !== 'string[]') pending = undefined;
      continue;
    }
    // A bare value: the next declared position not yet bound.
    const positional = cmdlet.params
      .filter((p) => p.position !== undefined && !bound.has(p))
      .sort((a, b) => a.position! - b.position!);
    const slot = positional[0];
    if (!slot) {
      const named = cmdlet.params.filter((p) => p.type !== 'switch').map((p) => `-${p.name}`);
      const fix = named.length ? `put the parameter name before it (${orList(named)})` : `${cmdlet.name} takes no values`;
      throw usageError(`unexpected value ${JSON.stringify(tok)} for ${cmdlet.name}; ${fix} (${help})`);
    }
    i += take(slot, i);
    // A positional list keeps collecting bare values when no later position could take them.
    if (slot.type === 'string[]' && positional.length === 1) pending = { spec: slot, got: 1 };
  }
  if (pending && pending.got === 0) needsValue(pending.spec, 'at the end');

  return finishArgs(cmdlet, bound);
}

/**
 * The checks every way of giving arguments shares (the command line here, a REST request in src/http): required
 * parameters present, -StartTime not after -EndTime; then the common parameters (-Tenant, -Json) taken out.
 * `bound` holds typed values (parseValue's), keyed by the cmdlet's or the common parameters' specs.
 */
export function finishArgs(cmdlet: Cmdlet, bound: ReadonlyMap<ParamSpec, unknown>): ParsedArgs {
  const help = `mms help ${cmdlet.name}`;
  const missing = cmdlet.params.filter((p) => p.required && !bound.has(p));
  if (missing.length) {
    const names = missing.map((p) => `-${p.name}`);
    const example = cmdlet.examples.find((e) => e.toLowerCase().includes(`-${missing[0]!.name.toLowerCase()}`)) ?? cmdlet.examples[0];
    const eg = example ? `, e.g. ${example}` : ` (${help})`;
    throw usageError(`${cmdlet.name} needs ${andList(names)}${eg}`);
  }

  checkTimeRange(bound);

  const common = commonParamsFor(cmdlet);
  const args: Record<string, unknown> = {};
  let tenant: string | undefined;
  let json = false;
  for (const [spec, value] of bound) {
    if (common.includes(spec)) {
      if (spec.name === 'Tenant') tenant = value as string;
      if (spec.name === 'Json') json = value as boolean;
    } else {
      args[spec.name] = value;
    }
  }
  return { args, tenant, json };
}
