// The demo organization for the browser tests without loading it for each test: loading Contoso (50 users, 500
// meetings, thousands of small transactions) took 15-30 s of each `mms serve` start, most of a browser file's time.
// It is loaded once — by the same loadDemoIfEmpty `mms serve` calls on a new database — into a template (a SQLite
// file; a PostgreSQL schema), and each test gets a copy of it of its own: a copied file, a new schema (the schema
// migrations, then the template's rows). The tests stay independent: each copy is a new database no other test sees.
//
// Under test/run.ts (MMS_TEST_SHARED_DIR) the template is shared by every file of the run: the first file that needs
// it builds it under a lock, the others wait for it; run.ts drops it at the end. A template serves for at most
// TEMPLATE_MINUTES (its meetings are planned around the time it was loaded, as `mms serve` plans them around its
// start), then the next one is built. A file run on its own (node --test) builds its own and drops it at its end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { loadDemoIfEmpty } from '../../src/demo/index.js';
import { openDatabase } from '../../src/store/index.js';
import { PG_URL, type TestDatabase } from './databases.js';
import { dropTemplate } from './demo-template-drop.js';
import { SHARED_DIR_ENV } from './demo-template-env.js';

export type FreshDatabase = Awaited<ReturnType<TestDatabase['fresh']>>;

/** How long one template is used before the next is loaded (a test's demo is never older than this). */
export const TEMPLATE_MINUTES = 10;


interface Template {
  /** SQLite: the template file. PostgreSQL: the template schema's name. */
  readonly where: string;
}

const local = new Map<string, Promise<Template>>();
// Registered when the file loads, so that it hangs on the file's root (inside a test it would run after that test):
// a file run on its own drops the templates it built when it ends.
after(async () => {
  for (const [kind, p] of local) await dropTemplate(kind, (await p).where).catch(() => undefined);
});

/** Builds a template: a fresh database of the kind, the demo loaded into it, its connection closed. */
async function build(t: TestDatabase): Promise<Template> {
  const fresh = await t.fresh();
  const demo = await loadDemoIfEmpty(fresh.db, { now: Date.now() });
  if (!demo) throw new Error(`the ${t.name} template was not empty: the demo was not loaded`);
  await fresh.db.close();
  if (t.name === 'sqlite') return { where: fresh.url };
  return { where: schemaOf(fresh.url) };
}

const schemaOf = (url: string): string => /search_path%3D(t_[0-9a-f]{16})/.exec(url)?.[1] ?? (() => { throw new Error(`no schema in ${url}`); })();

/** Waits until `file` exists (the lock holder writes it when the template is ready, or failed). */
async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const dir = path.dirname(file);
  await new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      clearInterval(poll);
      watcher.close();
      resolve();
    };
    const check = () => fs.existsSync(file) && done();
    const watcher = fs.watch(dir, check);
    // fs.watch may miss an event on some file systems: a slow poll backs it up.
    const poll = setInterval(check, 500);
    const timer = setTimeout(() => {
      clearInterval(poll);
      watcher.close();
      reject(new Error(`the demo template ${file} was not ready within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    check();
  });
}

/** The run's template of this kind and age (built here under the lock, or by another file). */
async function sharedTemplate(t: TestDatabase, dir: string): Promise<Template> {
  const generation = Math.floor(Date.now() / (TEMPLATE_MINUTES * 60_000));
  const base = path.join(dir, `demo-${t.name}-${generation}`);
  const ready = `${base}.json`;
  const lock = `${base}.lock`;
  let mine = false;
  try {
    fs.mkdirSync(lock);
    mine = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (mine) {
    try {
      const tpl = await build(t);
      fs.writeFileSync(`${ready}.tmp`, JSON.stringify({ kind: t.name, ...tpl }));
    } catch (err) {
      fs.writeFileSync(`${ready}.tmp`, JSON.stringify({ error: (err as Error).stack ?? String(err) }));
    }
    fs.renameSync(`${ready}.tmp`, ready);
  } else {
    await waitForFile(ready, 300_000);
  }
  const r = JSON.parse(fs.readFileSync(ready, 'utf8')) as Template & { error?: string };
  if (r.error) throw new Error(`building the ${t.name} demo template failed in another test file:\n${r.error}`);
  return r;
}

function template(t: TestDatabase): Promise<Template> {
  const dir = process.env[SHARED_DIR_ENV];
  if (dir) return sharedTemplate(t, dir);
  let p = local.get(t.name);
  if (!p) {
    p = build(t);
    local.set(t.name, p);
  }
  return p;
}

/** Copies the template's rows into the new schema `to` (whose tables the same schema migrations made). */
async function copySchema(from: string, to: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const tables = (await c.query<{ name: string }>(
      `select table_name as name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE'`, [from],
    )).rows.map((r) => r.name);
    // Parents before children, so that every foreign key holds as the rows arrive.
    const deps = (await c.query<{ child: string; parent: string }>(
      `select cl.relname as child, pa.relname as parent from pg_constraint k
         join pg_class cl on cl.oid = k.conrelid join pg_class pa on pa.oid = k.confrelid
         join pg_namespace n on n.oid = cl.relnamespace
        where k.contype = 'f' and n.nspname = $1 and cl.relname <> pa.relname`, [from],
    )).rows;
    const order: string[] = [];
    const visit = (name: string, path: string[]) => {
      if (order.includes(name)) return;
      if (path.includes(name)) throw new Error(`foreign keys in a cycle: ${[...path, name].join(' -> ')}`);
      for (const d of deps.filter((x) => x.child === name)) visit(d.parent, [...path, name]);
      order.push(name);
    };
    for (const name of tables) visit(name, []);
    await c.query('begin');
    // The rows the schema migrations wrote (their own bookkeeping, settings' first values) are the template's too,
    // possibly changed since by the demo: the template's replace them.
    for (const name of [...order].reverse()) await c.query(`delete from ${to}."${name}"`);
    for (const name of order) await c.query(`insert into ${to}."${name}" select * from ${from}."${name}"`);
    const seqs = (await c.query<{ name: string }>(`select sequence_name as name from information_schema.sequences where sequence_schema = $1`, [from])).rows;
    for (const { name } of seqs) {
      await c.query(`select setval('${to}."${name}"', s.last_value, s.is_called) from ${from}."${name}" s`);
    }
    await c.query('commit');
  } catch (err) {
    await c.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await c.end();
  }
}

/**
 * A new database of `t`'s kind holding the demo organization as `mms serve` loads it on a new database (so a
 * service started on it loads nothing), with the same shape as TestDatabase.fresh(): its URL, an open connection,
 * and drop().
 */
export async function freshDemo(t: TestDatabase): Promise<FreshDatabase> {
  const tpl = await template(t);
  if (t.name === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-test-'));
    const url = path.join(dir, 'mms.sqlite');
    fs.copyFileSync(tpl.where, url);
    const db = await openDatabase(url);
    return { db, url, drop: async () => { await db.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
  }
  const fresh = await t.fresh();
  try {
    await copySchema(tpl.where, schemaOf(fresh.url));
  } catch (err) {
    await fresh.drop();
    throw err;
  }
  return fresh;
}
