import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/** The columns that hold whole iCalendar objects (3–10 KB each): written once per meeting and copy by a migration. */
export const LZ4_COLUMNS = [['calendar_objects', 'ics'], ['outbox_messages', 'ics'], ['write_intents', 'payload']] as const;

/**
 * PostgreSQL compresses a text value over ~2 KB before it stores it (TOAST), with pglz by default. A meeting's
 * iCalendar text is 3–10 KB, so every object a migration rewrites and every iTIP message it stores was compressed
 * with pglz: the PostgreSQL half of a per-user migration's write (100 meetings, their copies and messages) spent
 * about twice as long in its calendar_objects updates as with lz4 (57 → 30 ms, issue 13's wake-up target). lz4 is
 * PostgreSQL 14's faster method; values already stored keep pglz until they are written again. A server built
 * without lz4 keeps pglz (checked, not assumed: the setting's allowed values name the methods the server has).
 * SQLite stores text as it is.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  if (dialect !== 'postgres') return;
  const r = await sql<{ ok: boolean }>`select 'lz4' = any(enumvals) as ok from pg_settings where name = 'default_toast_compression'`.execute(db);
  if (!r.rows[0]?.ok) return;
  for (const [table, column] of LZ4_COLUMNS) await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} set compression lz4`.execute(db);
}
