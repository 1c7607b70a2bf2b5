// The engine renders a user's block once and puts each meeting's id in; the result must be exactly what a full
// render for that meeting gives (text, HTML, CONFERENCE entries, fingerprint).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { newBridge, newTenant, newUser, setDialInUser, setLicense, type DirectoryContext } from '../src/directory/index.js';
import { blockInputFor, scheduleMeeting } from '../src/meetings/index.js';
import { renderBlock } from '../src/domain/meeting-block/index.js';
import { BuiltinMailboxStore } from '../src/mailbox/index.js';
import { MigrationWorker, startMigration } from '../src/migration/index.js';
import { editEvents } from '../src/ical/index.js';
import { findUser, getTenant, listBridges } from '../src/store/directory-repo.js';

const T0 = Date.UTC(2026, 10, 2, 9);
const now = () => T0;
const quiet = { info() {}, warn() {}, error() {} };

for (const t of TEST_DATABASES) {
  describe(`${t.name}: migrated blocks`, { skip: t.skip }, () => {
    it('are byte for byte the block a full render gives for each meeting, in the organizer\'s language', async () => {
      const { db, drop } = await t.fresh();
      try {
        const ctx: DirectoryContext = { db, actor: 'test', now, migrationDelayMs: 0 };
        const tenant = await newTenant(ctx, { name: 'Contoso', domains: ['contoso.com'] });
        await newBridge(ctx, tenant.id, { name: 'US', tollNumbers: ['+14255550100 (Seattle)'], tollFreeNumbers: ['+18005550199 (United States)'] });
        const u = await newUser(ctx, tenant.id, { userPrincipalName: 'hana@contoso.com', displayName: '山田 花子', preferredLanguage: 'ja-JP' });
        await setLicense(ctx, tenant.id, u.upn, { add: ['AudioConferencing'] });
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const r = await scheduleMeeting(db, tenant.id, { organizer: u.upn, subject: `会議 ${i}`, start: T0 + (i + 1) * 86_400_000, end: T0 + (i + 1) * 86_400_000 + 1_800_000, attendees: ['guest@example.org'] }, now);
          ids.push(r.uid);
        }
        await setDialInUser(ctx, tenant.id, u.upn, { resetConferenceId: true });
        const [queued] = await startMigration(db, (await getTenant(db.kysely, tenant.id))!, [u.upn], { actor: 'test', now });
        assert.equal(queued?.status, 'Queued');
        await new MigrationWorker({ db, logger: quiet, now }).drain();

        const user = (await findUser(db.kysely, tenant.id, u.upn))!;
        const bridges = await listBridges(db.kysely, tenant.id);
        const store = new BuiltinMailboxStore(db.kysely, tenant.id, now);
        for (const uid of ids) {
          const o = (await store.get(user.id, uid))!;
          const expected = renderBlock(blockInputFor(user, (await getTenant(db.kysely, tenant.id))!, bridges, o.onlineMeetingId!));
          let description = '';
          let html = '';
          let conferences: string[] = [];
          let fingerprint = '';
          editEvents(o.ics, (e) => {
            description = e.get('DESCRIPTION') ?? '';
            html = e.get('X-ALT-DESC') ?? '';
            conferences = e.getAll('CONFERENCE').map((c) => c.value);
            fingerprint = e.get('X-MMS-BLOCK-FINGERPRINT') ?? '';
          });
          assert.ok(description.endsWith(expected.text), `${uid}: the block is not the full render`);
          assert.ok(html.includes(expected.html), `${uid}: the HTML block is not the full render`);
          assert.deepEqual(conferences, expected.conferences.map((c) => c.uri));
          assert.equal(fingerprint, expected.fingerprint);
          assert.match(expected.text, new RegExp(user.conferenceId));
        }
      } finally {
        await drop();
      }
    });
  });
}
