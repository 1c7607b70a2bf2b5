import { sql, type Kysely } from 'kysely';
import type { Db } from './db.js';
import type { Database } from './schema.js';

export type Tx = Kysely<Database>;

/**
 * Runs `fn` in one write transaction. On SQLite it begins IMMEDIATE so that a read-then-write cannot fail with
 * SQLITE_BUSY when another process (an `mms` command beside the service) writes in between: the write lock is
 * taken first and busy_timeout waits for it. PostgreSQL uses an ordinary transaction.
 */
export async function writeTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (db.dialect === 'postgres') return db.kysely.transaction().execute(fn);
  return db.kysely.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
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
