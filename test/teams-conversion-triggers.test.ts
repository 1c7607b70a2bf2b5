// Issue 12 §2 end to end: each conversion trigger — Grant-CsTeamsUpgradePolicy for one user, the same grant with
// -Global, Move-CsUser -Target Online -MoveToTeams — queues a request that, once its delay has passed, a worker runs
// against a real CalDAV server (Radicale): amy's Skype meeting becomes a Teams meeting in her calendar and in her
// attendees' copies, everything outside the block kept, the update's iTIP REQUEST valid for libical. The opt-out
// (-MigrateMeetingsToTeams $false) queues nothing that converts: the meeting stays a Skype meeting.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { withCalDav, type CalDavFixture } from './helpers/caldav-fixture.js';
import { RADICALE_SKIP } from './helpers/radicale.js';
import { blockIn, eventsOf, march } from './helpers/migration-fixture.js';
import { dialInLines, expectedTeamsBlock, readWithPython, teamsLink } from './helpers/meeting-type-fixture.js';
import { assertValidItip } from './helpers/libical.js';
import { grantTeamsUpgradePolicy, moveUser } from '../src/directory/index.js';
import { listRequests } from '../src/store/requests-repo.js';
import type { MigrationType } from '../src/domain/migration.js';

const plain = (ics: string | undefined): string => (ics ?? '').replace(/%2C/g, ',');
const DAY = 24 * 3_600_000;

type Trigger = (c: CalDavFixture) => Promise<unknown>;

const TRIGGERS: ReadonlyArray<{ name: string; type: MigrationType; converts: boolean; run: Trigger }> = [
  {
    name: 'Grant-CsTeamsUpgradePolicy -Identity amy -PolicyName UpgradeToTeams', type: 'SfbToTeams', converts: true,
    run: (c) => grantTeamsUpgradePolicy(c.fx.ctx, c.fx.tenant.id, { identity: c.fx.upn('amy'), policyName: 'UpgradeToTeams' }),
  },
  {
    name: 'Grant-CsTeamsUpgradePolicy -Global -PolicyName SfBWithTeamsCollabAndMeetings', type: 'SfbToTeams', converts: true,
    run: (c) => grantTeamsUpgradePolicy(c.fx.ctx, c.fx.tenant.id, { global: true, policyName: 'SfBWithTeamsCollabAndMeetings' }),
  },
  {
    name: 'Move-CsUser -Identity amy -Target Online -MoveToTeams (amy homed on-premises before)', type: 'AllToTeams', converts: true,
    run: async (c) => {
      await moveUser(c.fx.ctx, c.fx.tenant.id, c.fx.upn('amy'), 'OnPremises');
      return moveUser(c.fx.ctx, c.fx.tenant.id, c.fx.upn('amy'), 'Online', true);
    },
  },
  {
    name: 'Grant-CsTeamsUpgradePolicy -Identity amy -PolicyName UpgradeToTeams -MigrateMeetingsToTeams $false', type: 'SfbToTeams', converts: false,
    run: (c) => grantTeamsUpgradePolicy(c.fx.ctx, c.fx.tenant.id, { identity: c.fx.upn('amy'), policyName: 'UpgradeToTeams', migrateMeetingsToTeams: false }),
  },
];

for (const t of TEST_DATABASES) {
  describe(`${t.name}: conversion triggers end to end on a CalDAV server (Radicale)`, { skip: t.skip ?? RADICALE_SKIP }, () => {
    for (const trigger of TRIGGERS) {
      it(`${trigger.name}: ${trigger.converts ? `queues ${trigger.type} and the worker converts amy's Skype meeting everywhere` : 'converts nothing'}`, () =>
        withCalDav(t, async (c) => {
          const { fx } = c;
          const uid = await c.meeting({ subject: 'Quarterly review ✓', start: march(12), uid: 'review@contoso.com', meetingId: 'REV23456', body: 'Agenda: numbers, then plans.' });
          await c.moveMailboxes();
          const before = { amy: await c.object('amy', uid), ben: await c.object('ben', uid) };
          assert.ok(before.amy && before.ben);

          await trigger.run(c);
          const pending = (await listRequests(fx.db.kysely, fx.tenant.id)).filter((r) => r.state === 'Pending');
          if (!trigger.converts) {
            // The opt-out queues no request at all (not even one that keeps the type), so nothing rewrites the meeting.
            assert.deepEqual(pending.map((r) => r.migrationType), [], 'no request queued');
            assert.equal((await c.object('amy', uid))?.ics, before.amy.ics, 'the Skype meeting is not converted');
            return;
          }
          const amy = await fx.user('amy');
          const amyRequest = pending.find((r) => r.userId === amy.id);
          assert.ok(amyRequest, `no request for amy: ${JSON.stringify(pending.map((r) => [r.userId, r.migrationType]))}`);
          assert.equal(amyRequest.migrationType, trigger.type);

          fx.clock.advance(DAY); // past the trigger's delay
          const done = await c.rerun(amyRequest.correlationId);
          assert.equal(done.state, 'Succeeded', done.lastMessage);
          assert.equal(done.invitesUpdate, 1, done.lastMessage);

          const link = teamsLink('REV23456', fx.tenant.id, amy.id);
          for (const [u, was] of [['amy', before.amy], ['ben', before.ben]] as const) {
            const now = await c.object(u, uid);
            assert.ok(now, `${u}'s copy`);
            const [e] = eventsOf(plain(now.ics));
            const [old] = eventsOf(plain(was.ics));
            assert.ok(e && old);
            const oldBlock = blockIn(old.get('DESCRIPTION'));
            const block = blockIn(e.get('DESCRIPTION'));
            // Moved online, amy's Skype join link was the on-premises one: the dial-in part is whatever she has now.
            if (trigger.type === 'SfbToTeams') assert.equal(block, expectedTeamsBlock(link, dialInLines(oldBlock, `https://meet.contoso.com/amy/REV23456`)), u);
            else assert.ok(block.includes(`\n${link}\n`) && block.includes('Microsoft Teams meeting'), `${u}: ${block}`);
            assert.equal(e.get('DESCRIPTION'), old.get('DESCRIPTION')!.replace(oldBlock, block), `${u}: the text around the block is kept`);
            assert.equal(e.get('X-MICROSOFT-SKYPETEAMSMEETINGURL'), link, u);
            assert.equal(e.get('SUMMARY'), old.get('SUMMARY'), u);
            // python-icalendar, not our parser, reads the join link and the Teams heading.
            const [py] = readWithPython([plain(now.ics)]);
            assert.equal(py?.[0]?.joinUrl, link, `${u}: python-icalendar's X-MICROSOFT-SKYPETEAMSMEETINGURL`);
            assert.ok(py?.[0]?.description?.includes('Microsoft Teams meeting'), `${u}: python-icalendar's DESCRIPTION`);
          }
          const sent = (await fx.notifications(amyRequest.correlationId)).flatMap((n) => (n.ics ? [n.ics] : []));
          assert.ok(sent.length > 0, 'the external attendees are sent the update');
          assertValidItip(sent, `iTIP REQUEST after ${trigger.name}`);
        }));
    }
  });
}
