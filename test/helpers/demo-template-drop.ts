// Dropping the demo templates of demo-template.ts: apart from it, so that test/run.ts can drop a run's templates
// without loading node:test hooks into the runner's own process.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PG_URL } from './databases.js';

/** Removes a template (its folder, or its schema). */
export async function dropTemplate(kind: string, where: string): Promise<void> {
  if (kind === 'sqlite') {
    fs.rmSync(path.dirname(where), { recursive: true, force: true });
    return;
  }
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`drop schema if exists ${where} cascade`);
  } finally {
    await c.end();
  }
}

/** For test/run.ts after the run: drops every template the run's files built in `dir`, then the folder. */
export async function dropSharedTemplates(dir: string): Promise<void> {
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!f.endsWith('.json')) continue;
    const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { kind?: string; where?: string };
    if (r.kind && r.where) await dropTemplate(r.kind, r.where).catch((err: Error) => console.error(`dropping the demo template ${r.where}: ${err.message}`));
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
