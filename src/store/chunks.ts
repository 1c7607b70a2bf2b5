/** The parameters one SQLite statement may bind (SQLITE_MAX_VARIABLE_NUMBER); PostgreSQL takes 65,535. */
export const SQLITE_MAX_PARAMETERS = 32_766;

/** Ids a statement may bind at most: 5,000 stay under both databases' limits (rows: SQLITE_MAX_PARAMETERS / columns). */
export const STATEMENT_ITEMS = 5000;

/** `items` in consecutive slices of at most `size`, for statements that bind one parameter (or one row) per item. */
export function* chunks<T>(items: readonly T[], size = STATEMENT_ITEMS): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
