import { sql, type Kysely } from 'kysely';
import type { Db } from './db.js';
import type { Database } from './schema.js';

export type Tx = Kysely<Database>;

/**
 * Runs `fn` in one write transaction. On SQLite it begins IMMEDIATE so that a read-then-write cannot fail with
 * SQLITE_BUSY when another process (an `mms` command beside the service) writes in between: the write lock is
 * taken first and busy_timeout waits for it. PostgreSQL uses an ordinary transaction.
 *
 * When the statement fails, the rollback's own failure is ignored and the statement's error is thrown: after a
 * lost connection the rollback fails too ("not queryable"), and the caller must see why the batch failed (the
 * server drops the open transaction itself when the connection goes).
 */
export async function writeTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const begin = db.dialect === 'postgres' ? sql`begin` : sql`begin immediate`;
  return db.kysely.connection().execute(async (conn) => {
    await begin.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}
