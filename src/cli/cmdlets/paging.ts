// -First / -Skip (PowerShell's paging names) for every listing cmdlet, and the default page size: a listing never
// cuts silently — when fewer rows are shown than the database counts, run-cli prints a line on stderr saying so.
import { usageError } from '../../domain/errors.js';
import type { ParamSpec } from '../cmdlet.js';
import { num } from './shared.js';

/** Rows a listing shows when -First is not given. */
export const DEFAULT_FIRST = 10_000;

/** The -First and -Skip parameters a listing cmdlet declares. */
export const PAGING_PARAMS: readonly ParamSpec[] = [
  { name: 'First', type: 'int', help: `Show at most this many rows (default ${DEFAULT_FIRST}); when rows are left out, a line on stderr says how many there are.` },
  { name: 'Skip', type: 'int', help: 'Leave out this many rows first (with -First, pages through a long listing).' },
];

/** The page a listing cmdlet's -First / -Skip ask for; a negative number is a usage error. */
export function pageArgs(a: Record<string, unknown>): { first: number; skip: number } {
  const first = num(a, 'First') ?? DEFAULT_FIRST;
  const skip = num(a, 'Skip') ?? 0;
  if (first < 0) throw usageError(`-First ${first} is negative; give 0 or more rows to show`);
  if (skip < 0) throw usageError(`-Skip ${skip} is negative; give 0 or more rows to leave out`);
  return { first, skip };
}
