// Initialize-MmsDemo: the Contoso demo organization loads through the real operations, has the promised shape,
// queues nothing, refuses a second load and comes out the same for the same seed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PG_URL, TEST_DATABASES, type TestDatabase } from './helpers/databases.js';
import { openDatabase, type Db } from '../src/store/index.js';
import { listTenants } from '../src/store/directory-repo.js';
import { listRequests } from '../src/store/requests-repo.js';
import { dialInUsers } from '../src/directory/index.js';
import { BuiltinMailboxStore, type StoredObject } from '../src/mailbox/index.js';
import { indexObject } from '../src/ical/index.js';
import { MmsError } from '../src/domain/errors.js';
import type { Tenant } from '../src/domain/directory.js';
import { loadDemo, type DemoSummary } from '../src/demo/index.js';
import { validateCmdlets } from '../src/cli/cmdlet.js';
import { findCmdlet, runCli } from '../src/cli/run-cli.js';
import { parseCmdletArgs } from '../src/cli/parse-args.js';
import { CMDLETS } from '../src/cli/cmdlets/index.js';

const REF = Date.UTC(2026, 2, 2, 17, 0, 0); // a Monday, a week before the US clocks change
const SEED = 7;
const ACTOR = 'admin@contoso.com';
const CJK = /[\u3040-\u30ff\u4e00-\u9fff]/u;
const RTL = /[\u0590-\u05ff\u0600-\u06ff]/u;
const COMBINING = /[A-Za-z]\p{M}/u;
const unfold = (ics: string): string => ics.replace(/\r\n[ \t]/g, '');

type Fresh = Awaited<ReturnType<TestDatabase['fresh']>>;

async function adminQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/**
 * A new empty database. On PostgreSQL a database of its own instead of the helper's fresh schema: Kysely's
 * migrator looks for its lock table in every schema of the database (store/db.ts sets no migrationTableSchema),
 * so preparing a fresh schema fails whenever another suite's schema exists in the same database at that moment.
 */
async function isolated(t: TestDatabase): Promise<Fresh> {
  if (t.name !== 'postgres') return t.fresh();
  const name = `mms_demo_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  try {
    const db = await openDatabase(url.toString(), { poolSize: 4 });
    return {
      db,
      url: url.toString(),
      drop: async () => {
        await db.close();
        await adminQuery(`drop database if exists ${name} with (force)`);
      },
    };
  } catch (err) {
    await adminQuery(`drop database if exists ${name} with (force)`);
    throw err;
  }
}

/** Every user's mailbox with what its objects index to, users in directory order. */
async function snapshot(db: Db, tenant: Tenant) {
  const users = await dialInUsers(db, tenant);
  const store = new BuiltinMailboxStore(db.kysely, tenant.id, () => REF);
  const mailboxes: Array<{ upn: string; objects: StoredObject[] }> = [];
  for (const u of users) mailboxes.push({ upn: u.Identity, objects: await store.list(u.UserId) });
  const organized = mailboxes.flatMap((m) => m.objects.filter((o) => o.organizer === m.upn));
  return { users, mailboxes, organized };
}

function capture() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, text: () => text };
}

async function cli(argv: string[], url: string) {
  const out = capture();
  const err = capture();
  const code = await runCli(argv, {
    stdout: out.stream, stderr: err.stream, isTty: false, now: () => REF,
    env: { MMS_DATABASE_URL: url, MMS_ACTOR: ACTOR, TZ: 'UTC' },
  }, CMDLETS);
  return { code, stdout: out.text(), stderr: err.text() };
}

it('lists Initialize-MmsDemo in the cmdlet table without declaration mistakes', () => {
  assert.ok(CMDLETS.some((c) => c.name === 'Initialize-MmsDemo'));
  assert.deepEqual(validateCmdlets(CMDLETS), []);
});

for (const t of TEST_DATABASES) {
  describe(`${t.name}: the Contoso demo`, { skip: t.skip }, () => {
    let a: Fresh | undefined;
    let db: Db;
    let summary: DemoSummary;
    let tenant: Tenant;
    let snap: Awaited<ReturnType<typeof snapshot>>;

    before(async () => {
      a = await isolated(t);
      db = a.db;
      summary = await loadDemo(db, { now: REF, actor: ACTOR, seed: SEED });
      tenant = (await listTenants(db.kysely))[0] as Tenant;
      snap = await snapshot(db, tenant);
    });
    after(async () => {
      await a?.drop();
    });

    it('loads Contoso with its three bridges and reports how long it took', (ctx) => {
      ctx.diagnostic(`loadDemo on ${t.name}: ${summary.elapsedMs} ms`);
      assert.equal(tenant.name, 'Contoso');
      assert.equal(tenant.meetingUrl, 'https://meet.contoso.com');
      assert.equal(tenant.onPremisesMeetingUrl, 'https://meet.onprem.contoso.com');
      assert.deepEqual(summary.bridges, ['Contoso US', 'Contoso EU', 'Contoso On-Premises']);
      assert.equal(tenant.settings.meetingMigrationEnabled, true, 'the setup turns migration back on');
    });

    it('has about fifty users in at least five languages, in every state the rules tell apart', () => {
      const users = snap.users;
      assert.ok(users.length >= 45 && users.length <= 55, `${users.length} users`);
      assert.ok(new Set(users.map((u) => u.PreferredLanguage)).size >= 5);
      assert.ok(users.some((u) => u.DisplayName === '山田 太郎'), 'Japanese names are written in their script');
      const onPrem = users.filter((u) => u.HostedOn === 'OnPremises');
      assert.ok(onPrem.length >= 6 && onPrem.length <= 10, `${onPrem.length} homed on-premises`);
      assert.ok(onPrem.some((u) => u.Licenses.includes('AudioConferencing')), 'some are licensed ahead of their move');
      assert.ok(onPrem.some((u) => !u.Licenses.includes('AudioConferencing')));
      assert.equal(users.filter((u) => u.HostedOn === 'Online' && !u.Licenses.length && u.Provider === '').length, 3, 'three online users without the licence');
      assert.equal(users.filter((u) => u.Provider === 'Intercall').length, 2);
      assert.equal(users.filter((u) => u.MailboxLocation === 'OnPremises').length, 1);
      const eu = users.filter((u) => u.BridgeName === 'Contoso EU' && u.HostedOn === 'Online');
      assert.ok(eu.length >= 10, `${eu.length} users on the EU bridge`);
      assert.ok(eu.every((u) => ['+33155550100', '+493055550100', '+34915550100', '+390255550100'].includes(u.ServiceNumber)));
      assert.equal(summary.users.total, users.length);
    });

    it('lists the licensed user still on the third-party provider as ready to move', async () => {
      const ready = await dialInUsers(db, tenant, { readyToMove: true });
      assert.deepEqual(ready.map((u) => u.Identity), ['irvins@contoso.com']);
      assert.equal(summary.users.readyToMove, 1);
    });

    it('has about five hundred meetings: future and past, recurring, with 300 attendees and non-Latin text', () => {
      const organized = snap.organized;
      assert.ok(organized.length >= 450 && organized.length <= 550, `${organized.length} meetings`);
      assert.equal(summary.meetings.total, organized.length);
      const ix = organized.map((o) => ({ o, ix: indexObject(o.ics) }));
      const past = ix.filter(({ ix }) => ix.lastEnd !== null && ix.lastEnd < REF);
      assert.ok(past.length >= 5 && past.length <= 15, `${past.length} entirely in the past`);
      const series = ix.filter(({ ix }) => ix.recurring);
      assert.ok(series.length >= 25 && series.length <= 35, `${series.length} series`);
      assert.ok(series.some(({ ix }) => ix.firstStart !== null && ix.firstStart < REF && (ix.lastEnd === null || ix.lastEnd > REF)), 'a series begun in the past with occurrences ahead');
      assert.ok(series.some(({ ix }) => ix.lastEnd === null), 'a series without an end');
      assert.ok(organized.some((o) => o.attendeeCount >= 300), 'one meeting with 300 attendees');
      assert.equal(summary.meetings.maxAttendees, 300);
      assert.ok(organized.filter((o) => CJK.test(o.summary)).length >= 10, 'CJK subjects');
      assert.ok(organized.some((o) => RTL.test(o.ics)), 'Arabic or Hebrew text');
      assert.ok(organized.some((o) => COMBINING.test(o.ics)), 'combining marks kept as written (not normalized)');
      assert.ok(organized.some((o) => /\p{Extended_Pictographic}/u.test(o.summary)), 'emoji in subjects');
      const mine = snap.mailboxes.find((m) => m.upn === 'meganb@contoso.com');
      assert.ok(mine && mine.objects.length > 0);
      assert.ok(snap.mailboxes.some((m) => m.objects.some((o) => o.organizer !== m.upn)), 'internal attendees hold copies');
    });

    it('has series with a moved and a cancelled occurrence that keep the block and its metadata', () => {
      const withExceptions = snap.organized.filter((o) => indexObject(o.ics).exceptions.length > 0);
      assert.ok(withExceptions.length >= 3, `${withExceptions.length} series with exceptions`);
      for (const o of withExceptions) {
        const x = indexObject(o.ics).exceptions;
        assert.ok(x.some((e) => e.cancelled) && x.some((e) => !e.cancelled && e.start !== e.recurrenceId), o.uid);
        assert.ok(o.onlineMeetingId, o.uid);
        const vevents = o.ics.split('BEGIN:VEVENT').length - 1;
        assert.equal(o.ics.split(`X-MMS-ONLINE-MEETING-ID:${o.onlineMeetingId}`).length - 1, vevents, 'every VEVENT carries the meeting id');
        assert.equal(o.ics.split('X-MMS-BLOCK-FINGERPRINT:').length - 1, vevents, 'every VEVENT carries the block fingerprint');
        const links = unfold(o.ics).split(`/${o.onlineMeetingId}`).length - 1;
        assert.ok(links >= 4 * vevents, `every VEVENT carries the block and join link (${links} links in ${vevents} VEVENTs)`);
      }
      assert.ok(withExceptions.some((o) => o.organizer === 'lidiah@contoso.com'), 'the suggested move candidate has one');
    });

    it('has meetings with a pasted block and no metadata for migrations to skip', () => {
      const pasted = snap.organized.filter((o) => o.onlineMeetingId === null);
      assert.equal(pasted.length, 2);
      for (const o of pasted) {
        assert.match(unfold(o.ics), /DESCRIPTION:.*_{80}.*https:\/\/meet\.contoso\.com\/[a-z.]+\/[A-Z0-9]{8}/);
        assert.doesNotMatch(o.ics, /X-MMS-ONLINE-MEETING-ID|X-MICROSOFT-/);
      }
    });

    it('suggests next steps that name existing cmdlets with parameters they accept', () => {
      assert.ok(summary.nextSteps.length >= 4);
      for (const step of summary.nextSteps) {
        const [npx, mms, name, ...rest] = step.command.split(' ');
        assert.deepEqual([npx, mms], ['npx', 'mms']);
        assert.doesNotThrow(() => parseCmdletArgs(findCmdlet(CMDLETS, name as string), rest), step.command);
        assert.ok(step.why.trim(), step.command);
      }
      assert.ok(summary.nextSteps.some((s) => s.command === 'npx mms Get-CsOnlineDialInConferencingUser -ReadyToMove'));
    });

    it('leaves no migration request behind', async () => {
      assert.equal((await listRequests(db.kysely, tenant.id)).length, 0);
      assert.equal(summary.migrationRequests, 0);
    });

    it('refuses a second load with a Conflict that says to use a fresh database', async () => {
      await assert.rejects(loadDemo(db, { now: REF, seed: SEED }), (err: unknown) => {
        assert.ok(err instanceof MmsError);
        assert.equal(err.code, 'Conflict');
        assert.match(err.message, /already holds a tenant named Contoso.*use a fresh database \(MMS_DATABASE_URL\) or -Tenant Contoso/);
        return true;
      });
      assert.equal((await listTenants(db.kysely)).length, 1);
    });

    it('Initialize-MmsDemo with the same seed gives the same users and meetings, then refuses to run again', async () => {
      const b = await isolated(t);
      try {
        const first = await cli(['Initialize-MmsDemo', '-Seed', String(SEED)], b.url);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /Meetings\s+: 500/);
        assert.match(first.stdout, /mms Move-CsUser -Identity lidiah@contoso\.com -Target Online/);
        assert.match(first.stdout, /mms Get-CsOnlineDialInConferencingUser -ReadyToMove/);
        const again = await cli(['Initialize-MmsDemo'], b.url);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /already holds a tenant named Contoso; use a fresh database/);

        const other = await snapshot(b.db, (await listTenants(b.db.kysely))[0] as Tenant);
        const people = (s: typeof snap) => s.users.map((u) => [u.Identity, u.DisplayName, u.HostedOn, u.Provider, u.BridgeName, u.ServiceNumber].join('|'));
        const meetings = (s: typeof snap) => s.mailboxes.map((m) => [m.upn, m.objects.map((o) => `${o.uid} ${o.summary} ${o.firstStart} ${o.lastEnd}`)]);
        assert.deepEqual(people(other), people(snap));
        assert.deepEqual(meetings(other), meetings(snap));
      } finally {
        await b.drop();
      }
    });
  });
}
