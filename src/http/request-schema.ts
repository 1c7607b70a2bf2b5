// A cmdlet's parameters as the JSON Schema of its REST request (TypeBox): the one schema Fastify validates the
// request with and @fastify/swagger prints into the OpenAPI document, built from the same ParamSpec list the
// command line binds, so the two cannot drift apart. Field names are the parameters' PascalCase names.
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import type { ParamSpec } from '../cli/cmdlet.js';
import { DATETIME_FORMS } from '../cli/parse-value.js';

/** Where a route takes its arguments: a JSON body (changes), the query string (reads), or a path segment. */
export type ArgPart = 'body' | 'querystring' | 'params';

/** The schema of one parameter's value. Query strings are text; Fastify's query validator coerces them. */
export function valueSchema(p: ParamSpec): TSchema {
  const description = p.help;
  switch (p.type) {
    case 'string':
      return Type.String({ description, minLength: 1 });
    case 'string[]':
      return Type.Array(Type.String({ minLength: 1 }), { description, minItems: 1 });
    case 'int':
      return Type.Integer({ description });
    case 'bool':
    case 'switch':
      return Type.Boolean({ description });
    case 'datetime':
      // Validated by the same reader as the command line (parse-value.ts), which takes more than RFC 3339.
      return Type.String({ description: `${description} Forms: ${DATETIME_FORMS}.`, minLength: 1 });
    case 'enum':
      return Type.Union((p.values ?? []).map((v) => Type.Literal(v)), { description });
  }
}

/**
 * The object schema of `params` (required ones required unless `optional` says otherwise). No other fields:
 * a misspelt field is an error that names it, as an unknown -Parameter is on the command line.
 */
export function objectSchema(params: readonly ParamSpec[], optional: ReadonlySet<string> = new Set()): TObject {
  const props: Record<string, TSchema> = {};
  for (const p of params) props[p.name] = p.required && !optional.has(p.name) ? valueSchema(p) : Type.Optional(valueSchema(p));
  return Type.Object(props, { additionalProperties: false });
}
