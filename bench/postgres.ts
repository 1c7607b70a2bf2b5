// PostgreSQL for the bench: a fresh schema per scenario (as the tests do), filled by copying the SQLite world
// (same users, same texts), or by cloning an already filled schema on the server.
import { randomUUID } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { openDatabase } from '../src/store/index.js';
import { log } from './report.js';

/** The server the bench uses: the tests' MMS_TEST_DATABASE_URL, or the machine's own. */
export const PG_URL = process.env.MMS_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** Tables the world consists of, parents first. Serial ids are left to PostgreSQL. */
const WORLD_TABLES = ['tenants', 'bridges', 'bridge_numbers', 'users', 'audit_log', 'calendar_objects'] as const;

const SERIAL_IDS = new Set<string>(['audit_log', 'calendar_objects']);

export interface PgSchema {
  readonly schema: string;
  /** MMS_DATABASE_URL for this schema. */
  readonly url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>, url = PG_URL): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Why PostgreSQL cannot be used, or undefined when it can. */
export async function pgProblem(): Promise<string | undefined> {
  try {
    await admin((c) => c.query('select 1'));
    return undefined;
  } catch (err) {
    return `PostgreSQL at ${PG_URL} is not reachable (${(err as Error).message}); start it or set MMS_TEST_DATABASE_URL`;
  }
}

/** A new schema with MMS's tables in it (the schema migrations run as the service runs them). */
export async function freshSchema(): Promise<PgSchema> {
  const schema = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await admin((c) => c.query(`create schema ${schema}`));
  const sep = PG_URL.includes('?') ? '&' : '?';
  const url = `${PG_URL}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const db = await openDatabase(url, { poolSize: 1 });
  await db.close();
  return { schema, url, drop: () => admin((c) => c.query(`drop schema ${schema} cascade`)).then(() => undefined) };
}

interface Column {
  readonly name: string;
  readonly type: string;
}

async function columnsOf(c: pg.Client, schema: string, table: string): Promise<Column[]> {
  const r = await c.query<{ column_name: string; data_type: string; column_default: string | null }>(
    `select column_name, data_type, column_default from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`,
    [schema, table],
  );
  return r.rows.filter((x) => !(x.column_default ?? '').startsWith('nextval(')).map((x) => ({ name: x.column_name, type: x.data_type }));
}

/** Copies the world's tables from a SQLite file into a fresh schema, in batches of unnest() inserts. */
export async function copyFromSqlite(file: string, target: PgSchema): Promise<void> {
  const src = new SQLite(file, { readonly: true });
  try {
    await admin(async (c) => {
      for (const table of WORLD_TABLES) {
        const cols = await columnsOf(c, target.schema, table);
        const names = cols.map((x) => `"${x.name}"`).join(', ');
        const unnest = cols.map((x, i) => `$${i + 1}::${x.type}[]`).join(', ');
        const insert = `insert into ${table} (${names}) select * from unnest(${unnest})`;
        const select = src.prepare(`select ${names} from ${table} order by rowid`);
        const batch = table === 'calendar_objects' ? 1_000 : 5_000;
        let arrays: unknown[][] = cols.map(() => []);
        let n = 0;
        let total = 0;
        let lastLog = performance.now();
        const flush = async () => {
          if (!n) return;
          await c.query(insert, arrays);
          total += n;
          arrays = cols.map(() => []);
          n = 0;
          if (performance.now() - lastLog > 15_000) {
            lastLog = performance.now();
            log(`  postgres ${target.schema}: ${table} ${total} rows copied`);
          }
        };
        await c.query('begin');
        for (const row of select.iterate() as Iterable<Record<string, unknown>>) {
          cols.forEach((col, i) => (arrays[i] as unknown[]).push(row[col.name]));
          if (++n >= batch) await flush();
        }
        await flush();
        await c.query('commit');
      }
    }, target.url);
  } finally {
    src.close();
  }
  await analyze(target);
}

/** Copies a filled schema into another fresh one, server side. */
export async function cloneSchema(from: PgSchema, to: PgSchema): Promise<void> {
  await admin(async (c) => {
    await c.query('begin');
    for (const table of WORLD_TABLES) {
      const cols = (await columnsOf(c, to.schema, table)).map((x) => `"${x.name}"`).join(', ');
      const order = SERIAL_IDS.has(table) ? ' order by id' : '';
      await c.query(`insert into ${to.schema}.${table} (${cols}) select ${cols} from ${from.schema}.${table}${order}`);
    }
    await c.query('commit');
  });
  await analyze(to);
}

/** VACUUM ANALYZE the world's tables, so that autovacuum does not wake up in the middle of a measurement. */
export async function analyze(target: PgSchema): Promise<void> {
  await admin(async (c) => {
    for (const table of WORLD_TABLES) await c.query(`vacuum analyze ${table}`);
    for (const table of ['migration_requests', 'migration_meetings', 'outbox', 'outbox_messages', 'migration_attempts']) await c.query(`analyze ${table}`);
  }, target.url);
}

/** Size of a schema's tables with indexes and TOAST, in MB. */
export async function schemaMb(target: PgSchema): Promise<number> {
  return admin(async (c) => {
    const r = await c.query<{ bytes: string }>(
      `select coalesce(sum(pg_total_relation_size(format('%I.%I', schemaname, tablename))), 0) as bytes from pg_tables where schemaname = $1`,
      [target.schema],
    );
    return Number(r.rows[0]?.bytes ?? 0) / 1e6;
  });
}
