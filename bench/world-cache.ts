// Building the full world takes a couple of minutes (2,200 users through the API, 500,000 calendar rows), so it
// is kept between runs — but only while nothing it was made from has changed: the key hashes the sizes and every
// source file under src/, the bench's world code and the attendees' own edits (test/helpers/personal-copy.ts). Any change to src/ builds it again.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { log, seconds } from './report.js';
import { REPO } from './worker-process.js';
import { buildWorld, type World, type WorldSize } from './world.js';

function sourcesHash(size: WorldSize): string {
  const h = createHash('sha256').update(JSON.stringify(size));
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) h.update(p).update(fs.readFileSync(p));
    }
  };
  walk(path.join(REPO, 'src'));
  for (const f of ['bench/world.ts', 'bench/meeting-template.ts', 'bench/world-cache.ts', 'test/helpers/personal-copy.ts']) h.update(fs.readFileSync(path.join(REPO, f)));
  return h.digest('hex').slice(0, 16);
}

/** The world for these sizes: the cached one when it matches, else a new one (older cached worlds are removed). */
export async function worldFor(workDir: string, size: WorldSize, fresh: boolean): Promise<World & { cached: boolean }> {
  fs.mkdirSync(workDir, { recursive: true });
  const tag = `world-${size.organizers}x${size.meetingsPerOrganizer}-`;
  const file = path.join(workDir, `${tag}${sourcesHash(size)}.sqlite`);
  const info = `${file}.json`;
  if (!fresh && fs.existsSync(file) && fs.existsSync(info)) {
    log(`world: reusing ${file} (sources and sizes unchanged; --fresh-world rebuilds it)`);
    return { ...(JSON.parse(fs.readFileSync(info, 'utf8')) as World), cached: true };
  }
  // Older worlds of the same size are stale now; the other size's world stays.
  for (const old of fs.readdirSync(workDir).filter((f) => f.startsWith(tag))) fs.rmSync(path.join(workDir, old), { force: true });
  log(`world: building ${size.organizers} organizers x ${size.meetingsPerOrganizer} meetings, ${size.pool} internal attendees, 1 user with ${size.soloMeetings} meetings`);
  const t0 = performance.now();
  const world = await buildWorld(file, size);
  log(`world: ${world.calendarRows} calendar objects (${world.averageIcsBytes} bytes each on average) in ${seconds((performance.now() - t0) / 1000)}: ${Object.entries(world.setupSeconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
  fs.writeFileSync(info, JSON.stringify(world, null, 2));
  return { ...world, cached: false };
}
