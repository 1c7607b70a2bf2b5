// Many rows into one table in one statement, the way each database takes them best. PostgreSQL parses, binds and
// plans every parameter of a statement each time it runs, and the query builder compiles each one too: a VALUES list
// of 400 outbox rows is 4,800 parameters. Given as one array per column and unnested, the same rows are a statement
// of one parameter per column (measured: the outbox insert of a 100-meeting run 21 -> 15 ms). Large texts are the
// exception: PostgreSQL parses each element out of an array literal again, so those stay a VALUES list
// (outbox-repo.ts). SQLite prepares a VALUES list cheaply and has no arrays: there rows go through the query builder.
import { sql, type Kysely } from 'kysely';
import { chunks } from './chunks.js';
import type { Database } from './schema.js';
import { isPostgres } from './transaction.js';

/** A column an insert writes and its PostgreSQL type (what the array parameter is cast to). */
export type PgColumn = readonly [name: string, pgType: 'text' | 'integer' | 'bigint'];

/**
 * Inserts `rows` into `table`, each holding exactly `columns` (every row the same columns; a missing value is NULL),
 * and returns the `returning` columns of the inserted rows, in no promised order. PostgreSQL: one statement (an
 * array parameter has no size limit). SQLite: statements within its 32,766 parameters.
 */
export async function insertRows<R extends string = never>(
  k: Kysely<Database>, table: keyof Database & string, columns: readonly PgColumn[], rows: ReadonlyArray<Record<string, unknown>>, returning: readonly R[] = [],
): Promise<Array<Record<R, unknown>>> {
  if (!rows.length) return [];
  if (isPostgres(k)) {
    // A raw statement through the query builder (not a precompiled query), so that plugins still see it.
    const arrays = sql.join(columns.map(([c, type]) => sql`cast(${rows.map((r) => r[c] ?? null)} as ${sql.raw(type)}[])`));
    const back = returning.length ? sql` returning ${sql.join(returning.map((c) => sql.ref(c)))}` : sql``;
    const r = await sql<Record<R, unknown>>`insert into ${sql.table(table)} (${sql.join(columns.map(([c]) => sql.ref(c)))}) select * from unnest(${arrays})${back}`.execute(k);
    return r.rows;
  }
  const out: Array<Record<R, unknown>> = [];
  for (const part of chunks(rows, Math.max(1, Math.floor(32_766 / columns.length)))) {
    const q = k.insertInto(table).values(part.map((r) => Object.fromEntries(columns.map(([c]) => [c, r[c] ?? null]))) as never);
    if (returning.length) out.push(...((await q.returning(returning as never).execute()) as unknown as Array<Record<R, unknown>>));
    else await q.execute();
  }
  return out;
}
