// Meetings exported by Exchange name their online meeting only with Exchange's own properties (a Skype conference
// URI, a Skype or Teams join link). Imported and migrated, each gets a new join link that opens the same meeting id
// on the tenant's meeting URL: https://meet.contoso.com/ashaw/<id>, never the raw marker; a Teams meeting stays a
// Teams meeting (issue 12: MigrationType ToSameType keeps each meeting's type) and keeps the join link Teams made,
// only its dial-in becoming ours. Fixtures and the properties they exercise: test/fixtures/ics/exchange/README.md.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TEST_DATABASES } from './helpers/databases.js';
import { newBridge, newTenant, newUser, setLicense, type DirectoryContext } from '../src/directory/index.js';
import { blockInputFor, importCalendar } from '../src/meetings/index.js';
import { renderBlock } from '../src/domain/meeting-block/index.js';
import { BuiltinMailboxStore } from '../src/mailbox/index.js';
import { MigrationWorker, startMigration, transactionHistory } from '../src/migration/index.js';
import { editEvents, type EventEditor } from '../src/ical/index.js';
import { getTenant, listBridges, findUser } from '../src/store/directory-repo.js';
import { listRequests } from '../src/store/requests-repo.js';

const T0 = Date.UTC(2026, 10, 2, 9);
const now = () => T0;
const quiet = { info() {}, warn() {}, error() {} };
const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'ics', 'exchange');

interface Case {
  readonly file: string;
  readonly meetingId: string;
  /** DESCRIPTION before the block, which must survive as written. */
  readonly before: string;
  readonly hasJoinUrlProperty: boolean;
  /** The join link the export's block showed. */
  readonly oldJoinUrl: string;
}

const TEAMS_A = 'NjQ5ZjM2YzEtYjM5Ny00ZWY2LWJmNjQtYjg4ZDk2ZWQ5ZGI0';
const TEAMS_B = 'ZDc4YTkxYjItYzU2ZC00ZTE4LWE5ZjAtMzEyYmM0NWQ2N2U4';
const teamsUrl = (thread: string) =>
  `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${thread}%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22b0f1c3d2-1a2b-4c5d-8e9f-0a1b2c3d4e5f%22%7d`;
const SKYPE_BEFORE = 'Agenda: Q1 budget, $$ and € figures.\n\n';

const CASES: readonly Case[] = [
  { file: 'skype-conflink.ics', meetingId: 'K7Q2X9ZP', before: SKYPE_BEFORE, hasJoinUrlProperty: false, oldJoinUrl: 'https://meet.contoso.com/ashaw/K7Q2X9ZP' },
  { file: 'skype-conflink-meetingurl.ics', meetingId: 'K7Q2X9ZP', before: SKYPE_BEFORE, hasJoinUrlProperty: true, oldJoinUrl: 'https://meet.contoso.com/ashaw/K7Q2X9ZP' },
  { file: 'teams-meetingurl.ics', meetingId: TEAMS_A, before: 'Weekly sync.\n\n', hasJoinUrlProperty: true, oldJoinUrl: teamsUrl(TEAMS_A) },
  { file: 'teams-conflink.ics', meetingId: TEAMS_B, before: 'Weekly sync.\n\n', hasJoinUrlProperty: false, oldJoinUrl: teamsUrl(TEAMS_B) },
];

function eventOf(ics: string): EventEditor {
  let found: EventEditor | undefined;
  editEvents(ics, (e) => {
    found ??= e;
  });
  assert.ok(found, 'the object has a VEVENT');
  return found;
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: Exchange-imported meetings`, { skip: t.skip }, () => {
    for (const c of CASES) {
      it(`${c.file}: migrated; a Skype meeting's new join link is the meeting URL, the organizer and the meeting id ${c.meetingId}, a Teams meeting keeps its own`, async () => {
        const { db, drop } = await t.fresh();
        try {
          const ctx: DirectoryContext = { db, actor: 'test', now, migrationDelayMs: 0 };
          const tenant = await newTenant(ctx, { name: 'Contoso', domains: ['contoso.com'] });
          await newBridge(ctx, tenant.id, { name: 'US', tollNumbers: ['+14255550100 (Seattle)'], tollFreeNumbers: ['+18005550199 (United States)'] });
          await newUser(ctx, tenant.id, { userPrincipalName: 'ashaw@contoso.com', displayName: 'Amy Shaw' });
          await setLicense(ctx, tenant.id, 'ashaw@contoso.com', { add: ['AudioConferencing'] });
          const imported = await importCalendar(db, tenant.id, 'ashaw@contoso.com', fs.readFileSync(path.join(FIXTURES, c.file)), now);
          assert.deepEqual([imported.imported, imported.onlineMeetings, imported.problems], [1, 1, []]);

          const [r] = await startMigration(db, tenant, ['ashaw@contoso.com'], { actor: 'test', now });
          assert.ok(r?.status === 'Queued', JSON.stringify(r));
          const worker = new MigrationWorker({ db, now, logger: quiet, workerId: 'test-worker', serviceAddress: 'mms@contoso.com' });
          assert.equal(await worker.runOnce([r.correlationId]), true);
          const request = (await listRequests(db.kysely, tenant.id)).find((x) => x.correlationId === r.correlationId);
          assert.equal(request?.state, 'Succeeded', request?.lastMessage);
          const rows = await transactionHistory(db, tenant, { identity: 'ashaw@contoso.com', correlationId: r.correlationId });
          assert.deepEqual(rows.map((x) => x.Action), ['Updated'], JSON.stringify(rows));

          const user = (await findUser(db.kysely, tenant.id, 'ashaw@contoso.com'))!;
          const [stored] = await new BuiltinMailboxStore(db.kysely, tenant.id, now).listOrganized(user.id, [user.upn], Number.MIN_SAFE_INTEGER);
          assert.ok(stored);
          const e = eventOf(stored.ics);
          const type = c.file.startsWith('teams') ? 'Teams' : 'SfB';
          // A Teams meeting keeps the join link Teams made (a link of ours would join nothing); a Skype one gets the
          // tenant's meeting URL with the organizer and the meeting id.
          const joinUrl = type === 'Teams' ? c.oldJoinUrl : `https://meet.contoso.com/ashaw/${c.meetingId}`;
          const expected = renderBlock(blockInputFor(user, (await getTenant(db.kysely, tenant.id))!, await listBridges(db.kysely, tenant.id), c.meetingId, null, type, type === 'Teams' ? c.oldJoinUrl : null));
          assert.ok(expected.text.includes(`\n${joinUrl}\n`), expected.text);
          assert.equal(e.get('DESCRIPTION'), `${c.before}${expected.text}\n`);
          assert.equal(e.get('X-MICROSOFT-SKYPETEAMSMEETINGURL'), c.hasJoinUrlProperty ? joinUrl : null);
          assert.ok(e.getAll('CONFERENCE').some((x) => x.value === joinUrl), 'a CONFERENCE entry joins the new link');
          // Exchange's own record of the old conference is not ours to change.
          assert.match(e.get('X-MICROSOFT-ONLINEMEETINGCONFLINK') ?? '', /^conf:sip:ashaw@contoso\.com;gruu;opaque=app:conf:focus:id:/);
          const html = e.get('X-ALT-DESC');
          if (html !== null) {
            assert.ok(html.includes(expected.html), 'the HTML body holds the new block');
            // The join link is kept (Skype: same URL and id; Teams: its own link): it stands only where the new block
            // has it, so the exported block around it is gone.
            assert.equal(html.split(joinUrl).length, expected.html.split(joinUrl).length, 'the join link only in the new block');
          }
        } finally {
          await drop();
        }
      });
    }
  });
}
