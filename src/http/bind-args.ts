// A REST request's fields bound to a cmdlet's parameters, with the command line's own rules: each value goes
// through parseValue (the same formats and messages), then finishArgs (required parameters, time range, -Tenant).
// The request schema has already checked the JSON types; this only turns them into the typed values cmdlets take.
import { commonParamsFor, type Cmdlet, type ParamSpec } from '../cli/cmdlet.js';
import { finishArgs, type ParsedArgs } from '../cli/parse-args.js';
import { parseValue } from '../cli/parse-value.js';
import { usageError } from '../domain/errors.js';

function typed(spec: ParamSpec, value: unknown): unknown {
  if (spec.type === 'string[]') {
    const items = Array.isArray(value) ? value : [value];
    return items.map((v) => parseValue(spec, String(v)));
  }
  if (typeof value === 'boolean' || typeof value === 'number') {
    // Already typed by the schema; an int still passes the whole-number check.
    return spec.type === 'int' ? parseValue(spec, String(value)) : value;
  }
  return parseValue(spec, String(value));
}

/** Binds the fields of `parts` (path, query, body, later ones win nothing: a field given twice is an error). */
export function bindRequestArgs(cmdlet: Cmdlet, parts: readonly (Record<string, unknown> | undefined)[]): ParsedArgs {
  const specs = new Map([...cmdlet.params, ...commonParamsFor(cmdlet)].map((p) => [p.name, p] as const));
  const bound = new Map<ParamSpec, unknown>();
  for (const part of parts) {
    for (const [name, value] of Object.entries(part ?? {})) {
      if (value === undefined) continue;
      const spec = specs.get(name);
      if (!spec) throw usageError(`${cmdlet.name} has no field ${name}; it takes ${[...specs.keys()].join(', ')}`);
      if (bound.has(spec)) throw usageError(`${name} was given twice (in the path and in the request); give it once`);
      bound.set(spec, typed(spec, value));
    }
  }
  return finishArgs(cmdlet, bound);
}
