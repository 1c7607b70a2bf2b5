import fs from 'node:fs';
import { openDatabase } from './src/store/index.js';
import { loadDemo } from './src/demo/index.js';
import { sql } from 'kysely';
const file = '/tmp/j-dbg/mms.sqlite';
fs.rmSync('/tmp/j-dbg', { recursive: true, force: true });
const db = await openDatabase(file);
let max = 0, n = 0;
const plugin = {
  transformQuery: (a: any) => a.node,
  transformResult: async (a: any) => { n++; try { const s = fs.statSync(file + '-wal').size; if (s > max) { max = s; } } catch {} return a.result; },
};
console.log(await sql`pragma wal_autocheckpoint`.execute(db.kysely), await sql`pragma journal_size_limit`.execute(db.kysely));
await loadDemo({ ...db, kysely: db.kysely.withPlugin(plugin) }, { now: Date.now() });
console.log({ max, n, wal: fs.statSync(file + '-wal').size, db: fs.statSync(file).size });
