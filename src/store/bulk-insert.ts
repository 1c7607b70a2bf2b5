// Many rows into one table in one statement, the way each database takes them best. PostgreSQL parses, binds and
// plans every parameter of a statement each time it runs, and the query builder compiles each one too: a VALUES list
// of 400 outbox rows is 4,800 parameters. Given as one array per column and unnested, the same rows are a statement
// of one parameter per column (measured: the outbox insert of a 100-meeting run 21 -> 15 ms). Large texts are the
// exception: PostgreSQL parses each element out of an array literal again, so those stay a VALUES list
// (outbox-repo.ts). SQLite prepares a VALUES list cheaply and has no arrays: there rows go through the query builder.
import { sql, type Kysely } from 'kysely';
import { chunks, SQLITE_MAX_PARAMETERS } from './chunks.js';
import type { Database } from './schema.js';
import { isPostgres } from './transaction.js';

/** A column an insert writes and its PostgreSQL type (what the array parameter is cast to). */
export type PgColumn = readonly [name: string, pgType: 'text' | 'integer' | 'bigint'];

/**
 * Inserts `rows` into `table`, each holding exactly `columns` (every row the same columns; a missing value is NULL).
 * PostgreSQL: one statement (an array parameter has no size limit). SQLite: statements within its parameter limit.
 */
export async function insertRows(k: Kysely<Database>, table: keyof Database & string, columns: readonly PgColumn[], rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  if (!rows.length) return;
  if (isPostgres(k)) {
    // A raw statement through the query builder (not a precompiled query), so that plugins still see it.
    const arrays = sql.join(columns.map(([c, type]) => sql`cast(${rows.map((r) => r[c] ?? null)} as ${sql.raw(type)}[])`));
    await sql`insert into ${sql.table(table)} (${sql.join(columns.map(([c]) => sql.ref(c)))}) select * from unnest(${arrays})`.execute(k);
    return;
  }
  for (const part of chunks(rows, Math.floor(SQLITE_MAX_PARAMETERS / columns.length))) await k.insertInto(table).values(part as never).execute();
}
