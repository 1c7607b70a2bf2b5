import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Db } from '../../src/store/index.js';

/** The PostgreSQL server the suite uses: MMS_TEST_DATABASE_URL, or the machine's own on 127.0.0.1:5432. */
export const PG_URL = process.env.MMS_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const REQUIRE_ALL = process.env.MMS_REQUIRE_ALL === '1';

export interface TestDatabase {
  readonly name: 'sqlite' | 'postgres';
  /** Why this half is skipped, or undefined when it runs. */
  readonly skip: string | undefined;
  /** A new empty database (a temp SQLite file, or a fresh PostgreSQL schema) and its URL. */
  fresh(): Promise<{ db: Db; url: string; drop(): Promise<void> }>;
}

async function pgProblem(): Promise<string | undefined> {
  // A generous connect timeout: on a loaded 2-core machine a local server took over 3 s to accept (CI then lost whole
  // files to "not reachable"); one that is really down refuses at once.
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 20_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return `PostgreSQL at ${PG_URL} is not reachable (${(err as Error).message}); start it or set MMS_TEST_DATABASE_URL`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const problem = await pgProblem();
if (problem && REQUIRE_ALL) throw new Error(`MMS_REQUIRE_ALL=1 but ${problem}`);

/** The two databases every suite runs against: `for (const t of TEST_DATABASES) describe(t.name, { skip: t.skip }, …)`. */
export const TEST_DATABASES: readonly TestDatabase[] = [
  {
    name: 'sqlite',
    skip: undefined,
    async fresh() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-test-'));
      const url = path.join(dir, 'mms.sqlite');
      const db = await openDatabase(url);
      return { db, url, drop: async () => { await db.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
    },
  },
  {
    name: 'postgres',
    skip: problem,
    async fresh() {
      const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      await admin.end();
      const sep = PG_URL.includes('?') ? '&' : '?';
      const url = `${PG_URL}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      let db: Db;
      try {
        db = await openDatabase(url, { poolSize: 4 });
      } catch (err) {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`drop schema if exists ${schema} cascade`).finally(() => c.end());
        throw err;
      }
      return {
        db,
        url,
        drop: async () => {
          await db.close();
          const c = new pg.Client({ connectionString: PG_URL });
          await c.connect();
          await c.query(`drop schema ${schema} cascade`);
          await c.end();
        },
      };
    },
  },
];

/** Prints one line when the PostgreSQL half will be skipped (run once before the suite). */
export function preflightLine(): string {
  return problem ? `postgres: skipped: ${problem}` : `postgres: using ${PG_URL}`;
}
