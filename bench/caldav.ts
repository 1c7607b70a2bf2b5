// The CalDAV scenario (issue 8 §7): meetings migrated per second when the mailboxes live on a CalDAV server
// (Radicale), set up the way an admin does (New-MmsMailboxHost, Set-MmsUserMailbox) and triggered by
// Set-CsOnlineDialInConferencingUser -ResetConferenceId, against a plain loop of the same PUTs with the same
// concurrency on a fresh copy of the same Radicale data. See bench/README.md.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../src/cli/run-cli.js';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { getMailboxHosts, setDialInUser, type DirectoryContext } from '../src/directory/index.js';
import { MigrationWorker, type Logger } from '../src/migration/index.js';
import { secretBoxFor, type SecretBox } from '../src/secrets/index.js';
import { getRequest } from '../src/store/queue-repo.js';
import { openDatabase } from '../src/store/index.js';
import { RADICALE_SKIP, type RadicaleServer } from '../test/helpers/radicale.js';
import {
  ATTENDEES, ORGANIZER, etagsOf, forEachLimited, restore, scheduleIntoRadicale, snapshot, startRadicale, textsOf, upnOf, type DavObject,
} from './caldav-data.js';
import { yes, type IoRow } from './io-report.js';
import { log, seconds } from './report.js';

export interface CaldavSize {
  /** Meetings of the organizer; each is 5 objects on Radicale (the organizer's and 4 attendees' copies). */
  readonly meetings: number;
}

export const CALDAV_FULL: CaldavSize = { meetings: 300 };
export const CALDAV_QUICK: CaldavSize = { meetings: 50 };
const TARGET_RATIO = 0.8;
const HOST = 'Radicale';
const OWNERS = [ORGANIZER, ...ATTENDEES];

/** `mms <argv>` as an admin types it, against the bench's database; its output, or an error with its stderr. */
async function mms(databaseUrl: string, argv: string[]): Promise<string> {
  let out = '';
  let err = '';
  const sink = (into: (s: string) => void) => new Writable({ write(chunk, _enc, done) { into(String(chunk)); done(); } });
  const code = await runCli(argv, { stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }), isTty: false, env: { MMS_DATABASE_URL: databaseUrl, MMS_ACTOR: 'bench' } }, CMDLETS);
  if (code !== 0) throw new Error(`bench caldav: mms ${argv.join(' ')} exited ${code}: ${err.trim()}`);
  return out;
}

async function allEtags(server: RadicaleServer, concurrency: number): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  await forEachLimited(OWNERS, concurrency, async (owner) => {
    for (const [url, etag] of await etagsOf(server, owner)) all.set(url, etag);
  });
  return all;
}

interface EngineRun {
  readonly ok: boolean;
  readonly meetings: number;
  readonly seconds: number;
  readonly state: string;
  readonly why: string;
  readonly changedObjects: number;
  readonly logged: string[];
}

/** The trigger and MigrationWorker.drain(), timed from the call to the end of the drain; checked on Radicale. */
async function engineRun(db: Awaited<ReturnType<typeof openDatabase>>, ctx: DirectoryContext, tenantId: string, server: RadicaleServer, objects: readonly DavObject[], meetings: number, concurrency: number, secrets: SecretBox): Promise<EngineRun> {
  const logged: string[] = [];
  const keep = (level: string) => (obj: object, msg?: string) => { if (logged.length < 20) logged.push(`${level}: ${msg ?? ''} ${JSON.stringify(obj)}`.slice(0, 400)); };
  const logger: Logger = { info: () => undefined, warn: keep('warn'), error: keep('error') };
  const before = await allEtags(server, concurrency);
  // The passwords Set-MmsUserMailbox sealed, opened with the key file beside the database, as `mms serve` does.
  const worker = new MigrationWorker({ db, logger, secrets });
  const t0 = performance.now();
  let state = 'not queued';
  let why = '';
  let updated = 0;
  try {
    const out = await setDialInUser(ctx, tenantId, upnOf(ORGANIZER), { resetConferenceId: true });
    if (!out.correlationId) why = `the trigger queued no migration: ${out.decision.reason}`;
    else {
      await worker.drain();
      const r = await getRequest(db, out.correlationId);
      state = r?.state ?? 'missing';
      updated = r?.invitesUpdate ?? 0;
      why = r?.lastMessage ?? '';
    }
  } catch (err) {
    state = 'threw';
    why = (err as Error).message;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const after = await allEtags(server, concurrency);
  const changedObjects = objects.filter((o) => after.get(o.url) !== undefined && after.get(o.url) !== before.get(o.url)).length;
  // The rate counts once the request succeeded with every meeting updated; whether every copy on Radicale was
  // rewritten is a target of its own.
  const ok = state === 'Succeeded' && updated === meetings && meetings > 0;
  return { ok, meetings: updated, seconds: elapsed, state, why, changedObjects, logged };
}

/** The same PUTs as a plain loop: one REPORT per calendar for the ETags, then every object PUT with If-Match, `concurrency` at once. */
async function floorRun(server: RadicaleServer, objects: readonly DavObject[], bodies: ReadonlyMap<string, string>, concurrency: number) {
  const t0 = performance.now();
  const etags = await allEtags(server, concurrency);
  let failed = 0;
  let bytes = 0;
  await forEachLimited(objects, concurrency, async (o) => {
    const body = bodies.get(o.url) as string;
    bytes += Buffer.byteLength(body);
    const res = await fetch(o.url, { method: 'PUT', headers: { authorization: server.authOf(o.owner), 'content-type': 'text/calendar; charset=utf-8', 'if-match': etags.get(o.url) ?? '"none"' }, body });
    await res.arrayBuffer();
    if (res.status !== 204 && res.status !== 201) failed += 1;
  });
  return { seconds: (performance.now() - t0) / 1000, failed, bytes };
}

/** A same-size stand-in for the engine's rewrite when it did not run: every DTSTAMP set to now (same length). */
function standIn(ics: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return ics.replace(/^DTSTAMP:\d{8}T\d{6}Z(?=\r?$)/gm, `DTSTAMP:${stamp}`);
}

/** Why the CalDAV scenario cannot run here (Radicale missing), or undefined. */
export const caldavProblem = (): string | undefined => RADICALE_SKIP;

export async function caldavScenario(size: CaldavSize, workDir: string, keep: boolean): Promise<IoRow[]> {
  if (RADICALE_SKIP) throw new Error(RADICALE_SKIP);
  fs.mkdirSync(workDir, { recursive: true });
  const file = path.join(workDir, 'caldav.sqlite');
  const snap = path.join(workDir, 'caldav-radicale-snapshot');
  for (const suffix of ['', '-wal', '-shm', '.key']) fs.rmSync(file + suffix, { force: true });
  log(`caldav: Radicale, ${size.meetings} meetings of ${upnOf(ORGANIZER)} with ${ATTENDEES.length} internal attendees (New-MmsMeeting, copies personalized, PUT to Radicale)`);
  const server = await startRadicale();
  const db = await openDatabase(file);
  try {
    const s0 = performance.now();
    const { tenant, objects: byOwner } = await scheduleIntoRadicale(db, server, size.meetings, 4);
    // Meeting by meeting (organizer copy, then the attendees'), as the engine goes.
    const objects = Array.from({ length: size.meetings }, (_, j) => OWNERS.map((_o, k) => byOwner[k * size.meetings + j] as DavObject)).flat();
    log(`  ${objects.length} objects on Radicale in ${seconds((performance.now() - s0) / 1000)}`);

    log(`caldav: mms New-MmsMailboxHost -Name ${HOST} -Type CalDav -Url ${server.url}/; Set-MmsUserMailbox -Identity <upn> -MailboxHost ${HOST} -UserName <account> -PasswordFile <file> for each of the ${OWNERS.length} users`);
    await mms(file, ['New-MmsMailboxHost', '-Name', HOST, '-Type', 'CalDav', '-Url', `${server.url}/`]);
    for (const u of server.users) {
      const pw = path.join(workDir, `caldav-${u.name}.password`);
      fs.writeFileSync(pw, `${u.password}\n`, { mode: 0o600 });
      await mms(file, ['Set-MmsUserMailbox', '-Identity', upnOf(u.name), '-MailboxHost', HOST, '-UserName', u.name, '-PasswordFile', pw]);
    }
    const concurrency = (await getMailboxHosts(db, tenant.id, HOST))[0]?.maxConcurrency ?? 4;
    const test = await mms(file, ['Test-MmsMailboxHost', '-Name', HOST, '-Identity', upnOf(ORGANIZER), '--json']).then((o) => `Test-MmsMailboxHost: ${o.replace(/\s+/g, ' ').trim().slice(0, 300)}`, (err: Error) => err.message);
    log(`  ${test}`);
    await snapshot(server, snap);

    log(`caldav: engine, Set-CsOnlineDialInConferencingUser -ResetConferenceId ${upnOf(ORGANIZER)} and MigrationWorker.drain()`);
    const ctx: DirectoryContext = { db, actor: 'bench', now: Date.now, migrationDelayMs: 0 };
    const engine = await engineRun(db, ctx, tenant.id, server, objects, size.meetings, concurrency, secretBoxFor({ secretKey: undefined, dialect: 'sqlite', sqliteFile: file }));
    log(engine.ok
      ? `  ${engine.meetings} meetings in ${seconds(engine.seconds)}: ${(engine.meetings / engine.seconds).toFixed(1)} meetings/s`
      : `  the engine did not migrate the meetings on Radicale: request ${engine.state}${engine.why ? ` (${engine.why})` : ''}; ${engine.meetings} of ${size.meetings} meetings updated, ${engine.changedObjects} of ${objects.length} objects changed on Radicale`);

    // The floor PUTs the engine's own texts when it wrote them; otherwise same-size stand-ins.
    const engineTexts = engine.changedObjects > 0 ? await textsOf(server, objects, concurrency) : new Map<string, string>();
    const written = (o: DavObject) => { const t = engineTexts.get(o.url); return t !== undefined && t !== o.ics ? t : undefined; };
    const bodies = new Map(objects.map((o) => [o.url, written(o) ?? standIn(o.ics)]));
    const fromEngine = objects.filter((o) => written(o) !== undefined).length;
    const unchanged = objects.filter((o) => bodies.get(o.url) === o.ics).length;
    if (unchanged) throw new Error(`bench caldav: ${unchanged} of the floor's bodies are the texts already stored; the floor must write new text`);
    log(`caldav: the floor on the restored Radicale data, one REPORT per calendar then ${objects.length} PUTs with If-Match, ${concurrency} at once`);
    await restore(server, snap);
    const floor = await floorRun(server, objects, bodies, concurrency);
    if (floor.failed) throw new Error(`bench caldav: ${floor.failed} of the floor's PUTs were refused`);
    const floorRate = size.meetings / floor.seconds;
    log(`  ${size.meetings} meetings (${objects.length} PUTs) in ${seconds(floor.seconds)}: ${floorRate.toFixed(1)} meetings/s`);

    const rate = engine.ok ? engine.meetings / engine.seconds : undefined;
    const sourceBytes = objects.reduce((a, o) => a + Buffer.byteLength(o.ics), 0);
    return [{
      scenario: 'caldav',
      what: `MigrationWorker, ${HOST} host, MaxConcurrency ${concurrency}`,
      unit: 'meetings',
      items: engine.ok ? engine.meetings : undefined,
      seconds: engine.ok ? engine.seconds : undefined,
      perSecond: rate,
      floorPerSecond: floorRate,
      ratio: rate !== undefined ? rate / floorRate : undefined,
      targets: [
        engine.ok ? `engine/floor>=${TARGET_RATIO}: ${yes((rate as number) / floorRate >= TARGET_RATIO)}` : `engine/floor>=${TARGET_RATIO}: NO (the engine did not migrate the meetings on Radicale)`,
        ...(engine.ok ? [`every copy rewritten on Radicale: ${yes(engine.changedObjects === objects.length)}`] : []),
      ],
      notes: [
        `${size.meetings} meetings x ${OWNERS.length} objects (the organizer's copy and ${ATTENDEES.length} attendees' own copies with PARTSTAT, VALARM and CATEGORIES), ${(sourceBytes / objects.length).toFixed(0)} bytes an object; each user on the host with their own account (Set-MmsUserMailbox -UserName -PasswordFile), calendars discovered`,
        engine.ok
          ? `engine: from the trigger until drain() returned; ${engine.changedObjects} objects changed on Radicale (ETags compared before and after)`
          : `engine: request ${engine.state}${engine.why ? `: ${engine.why}` : ''}; ${engine.meetings}/${size.meetings} meetings updated, ${engine.changedObjects}/${objects.length} objects changed on Radicale${engine.logged.length ? `; worker log: ${engine.logged.slice(0, 3).join(' | ')}` : ''}`,
        `floor: on a restored copy of the Radicale storage, one REPORT (getetag) per calendar then every object PUT with If-Match, ${concurrency} at once (the host's MaxConcurrency), ${(floor.bytes / objects.length).toFixed(0)} bytes a PUT: ${fromEngine === objects.length ? 'the engine\'s own texts' : fromEngine ? `the engine's own texts for ${fromEngine} objects, same-size stand-ins (DTSTAMP changed) for the ${objects.length - fromEngine} it did not write` : 'same-size stand-ins (DTSTAMP changed), as the engine wrote nothing'}; ran after the engine`,
      ],
      detail: { engine, floor, objects: objects.length, concurrency, test },
    }];
  } finally {
    await db.close();
    await server.dispose();
    if (!keep) {
      fs.rmSync(snap, { recursive: true, force: true });
      for (const suffix of ['', '-wal', '-shm', '.key']) fs.rmSync(file + suffix, { force: true });
      for (const u of OWNERS) fs.rmSync(path.join(workDir, `caldav-${u}.password`), { force: true });
    }
  }
}
