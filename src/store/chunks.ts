/**
 * Items a statement may bind at most: SQLite takes 32,766 parameters and PostgreSQL 65,535, so 5,000 ids (or rows
 * of up to 13 columns) stay under both.
 */
export const STATEMENT_ITEMS = 5000;

/** `items` in consecutive slices of at most `size`, for statements that bind one parameter (or one row) per item. */
export function* chunks<T>(items: readonly T[], size = STATEMENT_ITEMS): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
