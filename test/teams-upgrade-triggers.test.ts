// Skype → Teams conversion triggers (issue 12 §2), up to the queued request: which MigrationType each trigger
// queues, how a second trigger merges into the user's Pending request, the opt-outs, the tenant's meeting-type
// settings (automatic migrations only), and Grant-CsTeamsUpgradePolicy -Global queueing every affected user and
// nobody else. Converting the meetings themselves is the engine's (its own suites).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { withDirectoryFixture, lastAudit, type DirectoryFixture } from './helpers/directory-fixture.js';
import { grantTeamsUpgradePolicy, moveUser, setLicense } from '../src/directory/index.js';
import { startMigration } from '../src/migration/index.js';
import { getTenant } from '../src/store/directory-repo.js';
import { claimRequests, releaseRequest, retryRequest } from '../src/store/queue-repo.js';
import { mergeMigrationTypes, narrowMigrationType } from '../src/domain/trigger-rules.js';
import { MIGRATION_TYPES, type MigrationType } from '../src/domain/migration.js';
import type { Tenant } from '../src/domain/directory.js';
import { MmsError } from '../src/domain/errors.js';



const grant = (fx: DirectoryFixture, name: string, policyName: 'UpgradeToTeams' | 'SfBWithTeamsCollabAndMeetings' | 'Islands', migrateMeetingsToTeams?: boolean) =>
  grantTeamsUpgradePolicy(fx.ctx, fx.tenant.id, { identity: fx.upn(name), policyName, migrateMeetingsToTeams });

/** The one Pending request of `name` (and none of anybody else's): its type and reasons. */
async function onlyRequest(fx: DirectoryFixture, name: string) {
  const all = await fx.requests();
  assert.equal(all.length, 1, `expected one request in the tenant, got ${JSON.stringify(all.map((r) => [r.userId, r.migrationType]))}`);
  const [mine] = await fx.requests(name);
  assert.ok(mine, `the request is not ${name}'s`);
  assert.equal(mine.state, 'Pending');
  return mine;
}

const tenantNow = async (fx: DirectoryFixture): Promise<Tenant> => (await getTenant(fx.db.kysely, fx.tenant.id)) as Tenant;

describe('MigrationType merge and narrowing rules', () => {
  it('merging is order-free: the meetings either trigger touches, converted when either converts', () => {
    for (const a of MIGRATION_TYPES) for (const b of MIGRATION_TYPES) assert.equal(mergeMigrationTypes(a, b), mergeMigrationTypes(b, a), `${a} + ${b}`);
    const cases: Array<[MigrationType, MigrationType, MigrationType]> = [
      ['ToSameType', 'SfbToTeams', 'AllToTeams'],
      ['SfbToSfb', 'TeamsToTeams', 'ToSameType'],
      ['SfbToSfb', 'SfbToTeams', 'SfbToTeams'],
      ['TeamsToTeams', 'SfbToTeams', 'AllToTeams'],
      ['ToSameType', 'ToSameType', 'ToSameType'],
      ['SfbToSfb', 'SfbToSfb', 'SfbToSfb'],
      ['Unknown', 'SfbToSfb', 'ToSameType'],
      ['AllToTeams', 'SfbToSfb', 'AllToTeams'],
    ];
    for (const [a, b, merged] of cases) assert.equal(mergeMigrationTypes(a, b), merged, `${a} + ${b}`);
  });

  it('the tenant settings narrow which meetings and whether they convert, and an empty overlap is nothing', () => {
    const s = (src: 'All' | 'SfB' | 'Teams', target: 'Current' | 'Teams') => ({ meetingMigrationSourceMeetingTypes: src, meetingMigrationTargetMeetingTypes: target });
    assert.equal(narrowMigrationType('SfbToTeams', s('All', 'Teams')), 'SfbToTeams');
    assert.equal(narrowMigrationType('SfbToTeams', s('All', 'Current')), 'SfbToSfb');
    assert.equal(narrowMigrationType('SfbToTeams', s('Teams', 'Teams')), null);
    assert.equal(narrowMigrationType('ToSameType', s('SfB', 'Teams')), 'SfbToSfb');
    assert.equal(narrowMigrationType('ToSameType', s('Teams', 'Teams')), 'TeamsToTeams');
    assert.equal(narrowMigrationType('AllToTeams', s('All', 'Current')), 'ToSameType');
    assert.equal(narrowMigrationType('AllToTeams', s('SfB', 'Teams')), 'SfbToTeams');
  });
});

for (const t of TEST_DATABASES) {
  describe(`${t.name}: Teams upgrade triggers`, { skip: t.skip }, () => {
    it('granting UpgradeToTeams to an online user queues SfbToTeams, stores the policy and audits both', () =>
      withDirectoryFixture(t, async (fx) => {
        const r = await grant(fx, 'amy', 'UpgradeToTeams');
        const o = r.outcomes[0];
        assert.equal(o?.decision.migrate, true);
        assert.equal(o?.decision.migrationType, 'SfbToTeams');
        assert.equal(o?.user.teamsUpgradePolicy, 'UpgradeToTeams');
        const request = await onlyRequest(fx, 'amy');
        assert.equal(request.migrationType, 'SfbToTeams');
        assert.deepEqual(request.triggerReasons, ['TeamsUpgradeGranted']);
        assert.equal(request.notBefore, fx.clock.now + 5_000);
        const row = lastAudit(await fx.audit('amy'));
        assert.equal(row.Cmdlet, 'Grant-CsTeamsUpgradePolicy');
        assert.equal(row.Decision, 'Migrate');
        assert.equal(row.CorrelationId, request.correlationId);
        assert.match(row.Changes, /TeamsUpgradePolicy: \(none\) → UpgradeToTeams/);
        assert.match(row.Reason, /^amy@contoso\.com now has TeamsUpgradePolicy UpgradeToTeams \(mode TeamsOnly\): .*converted to Teams; MigrationType SfbToTeams$/);
        // Granting the same policy again is "no change": nothing written, nothing queued.
        const again = await grant(fx, 'amy', 'UpgradeToTeams');
        assert.match(again.outcomes[0]?.decision.reason ?? '', /^no change: amy@contoso\.com already has TeamsUpgradePolicy UpgradeToTeams$/);
        assert.equal((await fx.requests()).length, 1);
      }));

    it('SfBWithTeamsCollabAndMeetings converts too; -MigrateMeetingsToTeams $false and a mode without Teams meetings queue nothing', () =>
      withDirectoryFixture(t, async (fx) => {
        await grant(fx, 'dan', 'SfBWithTeamsCollabAndMeetings');
        assert.equal((await onlyRequest(fx, 'dan')).migrationType, 'SfbToTeams');
        const optOut = await grant(fx, 'gus', 'UpgradeToTeams', false);
        assert.equal(optOut.outcomes[0]?.user.teamsUpgradePolicy, 'UpgradeToTeams');
        assert.equal(optOut.outcomes[0]?.decision.migrate, false);
        assert.equal((await fx.requests('gus')).length, 0);
        const gusRow = lastAudit(await fx.audit('gus'));
        assert.equal(gusRow.Decision, 'NoMigration');
        assert.match(gusRow.Reason, /-MigrateMeetingsToTeams \$false: the meetings keep their type/);
        await grant(fx, 'hal', 'Islands');
        assert.equal((await fx.requests('hal')).length, 0);
        assert.match(lastAudit(await fx.audit('hal')).Reason, /schedules no Teams meetings, so nothing is converted/);
        assert.equal((await fx.requests()).length, 1);
      }));

    it('the gates of every automatic migration hold: mailbox on-premises, third-party provider, homed on-premises, migration off', () =>
      withDirectoryFixture(t, async (fx) => {
        await grant(fx, 'fay', 'UpgradeToTeams');
        assert.match(lastAudit(await fx.audit('fay')).Reason, /mailbox of fay@contoso\.com is on-premises/);
        await grant(fx, 'eve', 'UpgradeToTeams');
        assert.match(lastAudit(await fx.audit('eve')).Reason, /third-party audio conferencing provider Intercall: MMS does not convert/);
        await grant(fx, 'cara', 'UpgradeToTeams');
        assert.match(lastAudit(await fx.audit('cara')).Reason, /homed on-premises: .*Move-CsUser -Identity cara@contoso\.com -Target Online -MoveToTeams/);
        await fx.settings({ meetingMigrationEnabled: false });
        await grant(fx, 'amy', 'UpgradeToTeams');
        assert.match(lastAudit(await fx.audit('amy')).Reason, /MeetingMigrationEnabled is false/);
        for (const n of ['fay', 'eve', 'cara', 'amy']) assert.equal(lastAudit(await fx.audit(n)).Decision, 'NoMigration', n);
        assert.deepEqual(await fx.requests(), []);
      }));

    it('a conversion merges into a Pending update as AllToTeams, one request with both reasons, and the audit says so', () =>
      withDirectoryFixture(t, async (fx) => {
        await setLicense(fx.ctx, fx.tenant.id, fx.upn('dan'), { add: ['AudioConferencing'] });
        const first = await onlyRequest(fx, 'dan');
        assert.equal(first.migrationType, 'ToSameType');
        fx.clock.advance(1_000);
        const r = await grant(fx, 'dan', 'UpgradeToTeams');
        assert.equal(r.outcomes[0]?.coalesced, true);
        const merged = await onlyRequest(fx, 'dan');
        assert.equal(merged.correlationId, first.correlationId);
        assert.equal(merged.migrationType, 'AllToTeams');
        assert.deepEqual(merged.triggerReasons, ['LicenseAssigned', 'TeamsUpgradeGranted']);
        assert.equal(merged.notBefore, fx.clock.now + 5_000);
        assert.match(lastAudit(await fx.audit('dan')).Reason, new RegExp(`; MigrationType ToSameType \\+ SfbToTeams = AllToTeams \\(merged into the Pending request ${merged.correlationId}\\)$`));
      }));

    it('Start-CsExMeetingMigration queues the type its meeting types name, merges SfB and Teams into ToSameType, and a conversion wins', () =>
      withDirectoryFixture(t, async (fx) => {
        const ctx = { actor: 'admin@contoso.com', now: () => fx.clock.now };
        const [a] = await startMigration(fx.db, fx.tenant, [fx.upn('amy')], ctx, 'SfbToSfb');
        assert.equal(a?.status === 'Queued' && a.migrationType, 'SfbToSfb');
        const [b] = await startMigration(fx.db, fx.tenant, [fx.upn('amy')], ctx, 'TeamsToTeams');
        assert.equal(b?.status === 'Queued' && b.migrationType, 'ToSameType');
        assert.equal((await onlyRequest(fx, 'amy')).migrationType, 'ToSameType');
        const [c] = await startMigration(fx.db, fx.tenant, [fx.upn('amy')], ctx, 'SfbToTeams');
        assert.equal(c?.status === 'Queued' && c.coalesced, true);
        assert.equal((await onlyRequest(fx, 'amy')).migrationType, 'AllToTeams');
        assert.match(lastAudit(await fx.audit('amy')).Reason, /MigrationType ToSameType \+ SfbToTeams = AllToTeams \(merged into the Pending request\)$/);
      }));

    it('Move-CsUser -MoveToTeams makes the user TeamsOnly and queues AllToTeams (update and convert); -Target OnPremises with it is refused', () =>
      withDirectoryFixture(t, async (fx) => {
        const o = await moveUser(fx.ctx, fx.tenant.id, fx.upn('cara'), 'Online', true);
        assert.equal(o.user.hostedOn, 'Online');
        assert.equal(o.user.teamsUpgradePolicy, 'UpgradeToTeams');
        const request = await onlyRequest(fx, 'cara');
        assert.equal(request.migrationType, 'AllToTeams');
        assert.deepEqual(request.triggerReasons, ['UserMovedToTeams']);
        const row = lastAudit(await fx.audit('cara'));
        assert.match(row.Reason, /moved from on-premises to online: .*; cara@contoso\.com moved to Teams \(Move-CsUser -MoveToTeams\)/);
        assert.match(row.Changes, /TeamsUpgradePolicy: .*→ UpgradeToTeams/);
        await assert.rejects(moveUser(fx.ctx, fx.tenant.id, fx.upn('amy'), 'OnPremises', true), (e: unknown) => e instanceof MmsError && e.code === 'Usage' && /use it with -Target Online/.test(e.message));
        const online = await moveUser(fx.ctx, fx.tenant.id, fx.upn('amy'), 'Online', true);
        assert.match(online.decision.reason, /already homed Online; .*Grant-CsTeamsUpgradePolicy -Identity amy@contoso\.com -PolicyName UpgradeToTeams/);
        assert.equal((await fx.requests()).length, 1);
      }));

    it('MeetingMigrationTargetMeetingTypes Current: a Teams upgrade converts nothing, -MoveToTeams only updates, an explicit start still converts', () =>
      withDirectoryFixture(t, async (fx) => {
        await fx.settings({ meetingMigrationTargetMeetingTypes: 'Current' });
        await grant(fx, 'amy', 'UpgradeToTeams');
        assert.equal((await fx.requests('amy')).length, 0);
        assert.match(lastAudit(await fx.audit('amy')).Reason, /^MeetingMigrationTargetMeetingTypes is Current: automatic migrations do not convert meetings to Teams; convert them with Start-CsExMeetingMigration -Identity amy@contoso\.com/);
        await moveUser(fx.ctx, fx.tenant.id, fx.upn('cara'), 'Online', true);
        assert.equal((await onlyRequest(fx, 'cara')).migrationType, 'ToSameType');
        assert.match(lastAudit(await fx.audit('cara')).Reason, /; not converted to Teams: MeetingMigrationTargetMeetingTypes is Current/);
        const [s] = await startMigration(fx.db, await tenantNow(fx), [fx.upn('gus')], { actor: 'admin', now: () => fx.clock.now }, 'AllToTeams');
        assert.equal(s?.status === 'Queued' && s.migrationType, 'AllToTeams');
      }));

    it('MeetingMigrationSourceMeetingTypes narrows what triggers touch: SfB makes a dial-in change SfbToSfb, Teams leaves a Teams upgrade nothing', () =>
      withDirectoryFixture(t, async (fx) => {
        await fx.settings({ meetingMigrationSourceMeetingTypes: 'SfB' });
        await setLicense(fx.ctx, fx.tenant.id, fx.upn('dan'), { add: ['AudioConferencing'] });
        assert.equal((await onlyRequest(fx, 'dan')).migrationType, 'SfbToSfb');
        await fx.settings({ meetingMigrationSourceMeetingTypes: 'Teams' });
        await grant(fx, 'amy', 'UpgradeToTeams');
        assert.equal((await fx.requests('amy')).length, 0);
        assert.match(lastAudit(await fx.audit('amy')).Reason, /^MeetingMigrationSourceMeetingTypes is Teams: automatic migrations leave Skype for Business meetings alone/);
        await setLicense(fx.ctx, fx.tenant.id, fx.upn('amy'), { remove: ['AudioConferencing'] });
        assert.equal((await fx.requests('amy'))[0]?.migrationType, 'TeamsToTeams');
      }));

    it('-Global queues every user without a policy of their own that the rules allow, and nobody else', () =>
      withDirectoryFixture(t, async (fx) => {
        await grant(fx, 'ben', 'Islands'); // ben keeps his own policy
        await setLicense(fx.ctx, fx.tenant.id, fx.upn('gus'), { remove: ['AudioConferencing'] }); // gus has a Pending update
        const gusFirst = (await fx.requests('gus'))[0];
        const r = await grantTeamsUpgradePolicy(fx.ctx, fx.tenant.id, { global: true, policyName: 'UpgradeToTeams' });
        assert.equal((await tenantNow(fx)).settings.teamsUpgradePolicy, 'UpgradeToTeams');
        const names = async (ids: readonly string[]) => {
          const byId = new Map<string, string>();
          for (const n of ['amy', 'ben', 'cara', 'dan', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jon', 'kim', 'lee']) byId.set(await fx.userId(n), n);
          return ids.map((id) => byId.get(id)).sort();
        };
        // Every inheriting user was decided (and audited); ben, who has his own, was not.
        assert.deepEqual(r.outcomes.map((o) => o.user.upn.split('@')[0]).sort(), ['amy', 'cara', 'dan', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jon', 'kim', 'lee']);
        const requests = await fx.requests();
        assert.deepEqual(await names(requests.map((q) => q.userId)), ['amy', 'dan', 'gus', 'hal']);
        for (const q of requests) assert.equal(q.migrationType, q.userId === gusFirst?.userId ? 'AllToTeams' : 'SfbToTeams');
        assert.equal((await fx.requests('gus'))[0]?.correlationId, gusFirst?.correlationId);
        assert.equal((await fx.requests('ben')).length, 0);
        assert.equal(lastAudit(await fx.audit('kim')).Decision, 'NoMigration');
        assert.match(lastAudit(await fx.audit('dan')).Changes, /TeamsUpgradePolicy: Islands \(Global\) → UpgradeToTeams \(Global\)/);
        const tenantRow = (await fx.audit()).find((a) => a.Target === 'Contoso' && a.Cmdlet === 'Grant-CsTeamsUpgradePolicy');
        assert.ok(tenantRow);
        assert.match(tenantRow.Reason, /^Global TeamsUpgradePolicy changed: 11 user\(s\) without a policy of their own now have UpgradeToTeams; 4 queued for conversion to Teams/);
        // Again: no change, nothing more queued.
        const again = await grantTeamsUpgradePolicy(fx.ctx, fx.tenant.id, { global: true, policyName: 'UpgradeToTeams' });
        assert.equal(again.noChange, "the tenant's TeamsUpgradePolicy is already UpgradeToTeams");
        assert.equal((await fx.requests()).length, 4);
      }));

    it('-Global with -MigrateMeetingsToTeams $false or a mode without Teams meetings changes the policy and queues nobody', () =>
      withDirectoryFixture(t, async (fx) => {
        const off = await grantTeamsUpgradePolicy(fx.ctx, fx.tenant.id, { global: true, policyName: 'UpgradeToTeams', migrateMeetingsToTeams: false });
        assert.deepEqual(off.outcomes, []);
        const collab = await grantTeamsUpgradePolicy(fx.ctx, fx.tenant.id, { global: true, policyName: 'SfBOnly' });
        assert.deepEqual(collab.outcomes, []);
        assert.deepEqual(await fx.requests(), []);
        const rows = (await fx.audit()).filter((a) => a.Cmdlet === 'Grant-CsTeamsUpgradePolicy');
        assert.equal(rows.length, 2);
        assert.match(rows[0]?.Reason ?? '', /-MigrateMeetingsToTeams \$false, so no meetings are converted/);
        assert.match(rows[1]?.Reason ?? '', /mode SfBOnly\), which schedules no Teams meetings/);
      }));

    it('a running request given back at shutdown or retried merges its MigrationType into the user\'s newer Pending request', () =>
      withDirectoryFixture(t, async (fx) => {
        const ctx = { actor: 'admin', now: () => fx.clock.now };
        for (const [how, name] of [['release', 'amy'], ['retry', 'gus']] as const) {
          const [first] = await startMigration(fx.db, fx.tenant, [fx.upn(name)], ctx, 'SfbToTeams');
          assert.ok(first?.status === 'Queued');
          const claimed = await claimRequests(fx.db, 'w1', fx.clock.now, 60_000, 1, [first.correlationId]);
          assert.equal(claimed.length, 1);
          const [newer] = await startMigration(fx.db, fx.tenant, [fx.upn(name)], ctx, 'TeamsToTeams');
          assert.ok(newer?.status === 'Queued' && newer.correlationId !== first.correlationId);
          assert.equal(newer.migrationType, 'TeamsToTeams');
          if (how === 'release') await releaseRequest(fx.db, first.correlationId, 'w1', fx.clock.now);
          else await retryRequest(fx.db, first.correlationId, 'w1', { retryAt: fx.clock.now + 1_000, retryCount: 1, lastMessage: 'busy' }, fx.clock.now);
          const pending = (await fx.requests(name)).filter((r) => r.state === 'Pending');
          assert.deepEqual(pending.map((r) => [r.correlationId, r.migrationType]), [[newer.correlationId, 'AllToTeams']], how);
        }
      }));

    it('bad combinations are refused with one line naming the fix, before anything is written', () =>
      withDirectoryFixture(t, async (fx) => {
        const usage = (re: RegExp) => (e: unknown) => e instanceof MmsError && e.code === 'Usage' && re.test(e.message) && !e.message.includes('\n');
        await assert.rejects(grantTeamsUpgradePolicy(fx.ctx, fx.tenant.id, { policyName: 'UpgradeToTeams' }), usage(/-Identity <user> .* or -Global/));
        await assert.rejects(grantTeamsUpgradePolicy(fx.ctx, fx.tenant.id, { identity: fx.upn('amy'), global: true, policyName: 'UpgradeToTeams' }), usage(/not both/));
        await assert.rejects(grant(fx, 'amy', 'Islands', true), usage(/-MigrateMeetingsToTeams \$true needs a policy whose mode schedules Teams meetings .*Islands is mode Islands/));
        assert.deepEqual(await fx.audit(), []);
        assert.deepEqual(await fx.requests(), []);
      }));
  });
}
