// The trigger rules end to end: each directory operation decides from the state before and after whether the user's
// meetings migrate, records a Pending request (coalesced per user) when the answer is yes, and leaves an audit row
// that answers "why did (nothing) happen?" either way.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { ACP, MIGRATION_DELAY_MS, NUMBERS, withDirectoryFixture, type AuditRow, type DirectoryFixture } from './helpers/directory-fixture.js';
import {
  auditLog,
  changeTenant,
  disableDialIn,
  enableDialIn,
  moveUser,
  newUser,
  setDialInUser,
  setLicense,
  setSipAddress,
  setUserAcp,
  unregisterServiceNumber,
} from '../src/directory/index.js';
import type { ChangeKind } from '../src/domain/trigger-rules.js';
import { MmsError } from '../src/domain/errors.js';

/** A `yes` row of the trigger table: an operation on one user that migrates their meetings. */
interface YesRow {
  /** How the title names the change ("<title> queues a migration"). */
  readonly title: string;
  readonly user: string;
  readonly kind: ChangeKind;
  /** What the audit row's reason must say when it migrates. */
  readonly reason: RegExp;
  /** `yes*`: an audio-conferencing change, gated by AutomaticallyMigrateUserMeetings and online homing. */
  readonly audioConferencing: boolean;
  readonly prepare?: (fx: DirectoryFixture) => Promise<unknown>;
  readonly run: (fx: DirectoryFixture) => Promise<unknown>;
}

const enableOne = async (fx: DirectoryFixture, name: string, replaceProvider: boolean) => {
  const [result, ...more] = await enableDialIn(fx.ctx, fx.tenant.id, [fx.upn(name)], replaceProvider);
  assert.equal(more.length, 0);
  assert.equal(result?.status, 'Done', result?.status === 'Failed' ? result.reason : undefined);
};

const YES: readonly YesRow[] = [
  {
    title: 'moving a user online (Move-CsUser -Target Online)',
    user: 'cara',
    kind: 'UserMovedOnline',
    reason: /cara@contoso\.com moved from on-premises to online/,
    audioConferencing: false,
    run: (fx) => moveUser(fx.ctx, fx.tenant.id, fx.upn('cara'), 'Online'),
  },
  {
    title: 'assigning the Audio Conferencing licence to a user with no provider',
    user: 'dan',
    kind: 'LicenseAssigned',
    reason: /^License assigned: the online meeting information of dan@contoso\.com changed/,
    audioConferencing: true,
    run: (fx) => setLicense(fx.ctx, fx.tenant.id, fx.upn('dan'), { add: ['AudioConferencing'] }),
  },
  {
    title: 'assigning the Audio Conferencing licence to a user on a third-party provider with AutomaticallyReplaceAcpProvider true',
    user: 'eve',
    kind: 'LicenseAssigned',
    reason: /^License assigned: the online meeting information of eve@contoso\.com changed/,
    audioConferencing: true,
    prepare: (fx) => fx.settings({ automaticallyReplaceAcpProvider: true }),
    run: (fx) => setLicense(fx.ctx, fx.tenant.id, fx.upn('eve'), { add: ['AudioConferencing'] }),
  },
  {
    title: 'removing the Audio Conferencing licence from a user on Microsoft audio conferencing',
    user: 'amy',
    kind: 'LicenseRemoved',
    reason: /^License removed: the online meeting information of amy@contoso\.com changed/,
    audioConferencing: true,
    run: (fx) => setLicense(fx.ctx, fx.tenant.id, fx.upn('amy'), { remove: ['AudioConferencing'] }),
  },
  {
    title: 'enabling audio conferencing',
    user: 'hal',
    kind: 'AudioConferencingEnabled',
    reason: /^Audio conferencing enabled: the online meeting information of hal@contoso\.com changed/,
    audioConferencing: true,
    run: (fx) => enableOne(fx, 'hal', false),
  },
  {
    title: 'disabling audio conferencing',
    user: 'amy',
    kind: 'AudioConferencingDisabled',
    reason: /^Audio conferencing disabled: the online meeting information of amy@contoso\.com changed/,
    audioConferencing: true,
    run: (fx) => disableDialIn(fx.ctx, fx.tenant.id, fx.upn('amy')),
  },
  {
    title: 'replacing the third-party provider with Microsoft (-ReplaceProvider)',
    user: 'ivy',
    kind: 'ProviderReplaced',
    reason: /^Provider replaced: the online meeting information of ivy@contoso\.com changed/,
    audioConferencing: true,
    run: (fx) => enableOne(fx, 'ivy', true),
  },
  {
    title: 'changing the conference ID',
    user: 'amy',
    kind: 'ConferenceIdChanged',
    reason: /^Conference id changed: the online meeting information of amy@contoso\.com changed/,
    audioConferencing: true,
    run: (fx) => setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { conferenceId: '4242424' }),
  },
  {
    title: 'resetting the conference ID',
    user: 'amy',
    kind: 'ConferenceIdChanged',
    reason: /^Conference id changed: the online meeting information of amy@contoso\.com changed/,
    audioConferencing: true,
    run: (fx) => setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { resetConferenceId: true }),
  },
  {
    title: 'moving a user to another bridge',
    user: 'amy',
    kind: 'BridgeChanged',
    reason: /^Bridge changed: the online meeting information of amy@contoso\.com changed/,
    audioConferencing: true,
    run: (fx) => setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { bridgeName: 'Contoso EU' }),
  },
  {
    title: 'changing the default toll number',
    user: 'amy',
    kind: 'DefaultNumberChanged',
    reason: /^Default number changed: the online meeting information of amy@contoso\.com changed/,
    audioConferencing: true,
    run: (fx) => setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { serviceNumber: NUMBERS.redmond }),
  },
  {
    title: 'changing the default toll-free number',
    user: 'amy',
    kind: 'DefaultNumberChanged',
    reason: /^Default number changed: the online meeting information of amy@contoso\.com changed/,
    audioConferencing: true,
    run: (fx) => setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { tollFreeServiceNumber: NUMBERS.tollFreeB }),
  },
  {
    // Seattle is the default bridge's default toll number: amy shows it (fay too, but her mailbox is on-premises).
    title: "unassigning from its bridge a number the user's meetings show",
    user: 'amy',
    kind: 'NumberUnassigned',
    reason: /^Number unassigned: the online meeting information of amy@contoso\.com changed/,
    audioConferencing: true,
    run: (fx) => unregisterServiceNumber(fx.ctx, fx.tenant.id, { number: NUMBERS.seattle, bridgeName: 'Contoso US', removeDefaultServiceNumber: true }),
  },
];

/** The user's audit rows from a given cmdlet (the fixture only returns rows written by the test). */
function rowsOf(rows: readonly AuditRow[], cmdlet?: string): AuditRow[] {
  return rows.filter((r) => cmdlet === undefined || r.Cmdlet === cmdlet);
}

function last<T>(xs: readonly T[]): T {
  const x = xs[xs.length - 1];
  assert.ok(x !== undefined, 'expected at least one row');
  return x;
}

/** Exactly one Pending ToSameType request in the tenant, the user's, for `kind`; its audit row says Migrate. */
async function assertQueued(fx: DirectoryFixture, user: string, kind: ChangeKind, reason: RegExp): Promise<void> {
  const all = await fx.requests();
  assert.equal(all.length, 1, `expected one request in the tenant, got ${JSON.stringify(all.map((r) => r.triggerReasons))}`);
  const [request] = await fx.requests(user);
  assert.ok(request, `the request is not ${user}'s`);
  assert.equal(request.state, 'Pending');
  assert.equal(request.migrationType, 'ToSameType');
  assert.deepEqual(request.triggerReasons, [kind]);
  assert.equal(request.createDate, fx.clock.now);
  assert.equal(request.notBefore, fx.clock.now + MIGRATION_DELAY_MS);
  const row = last(await fx.audit(user));
  assert.equal(row.Decision, 'Migrate');
  assert.match(row.Reason, reason);
  assert.equal(row.CorrelationId, request.correlationId);
  assert.equal(row.Target, fx.upn(user));
}

/** No request anywhere in the tenant; the user's last audit row says NoMigration and why. */
async function assertNotQueued(fx: DirectoryFixture, user: string, reason: RegExp): Promise<AuditRow> {
  assert.deepEqual((await fx.requests()).map((r) => r.triggerReasons), []);
  const row = last(await fx.audit(user));
  assert.equal(row.Decision, 'NoMigration');
  assert.match(row.Reason, reason);
  assert.equal(row.CorrelationId, '');
  return row;
}


for (const t of TEST_DATABASES) {
  describe(`${t.name}: trigger rules, one test per row of the table`, { skip: t.skip }, () => {
    it('moving a user online queues a migration even when AutomaticallyMigrateUserMeetings is false', () =>
      withDirectoryFixture(t, async (fx) => {
        await fx.settings({ automaticallyMigrateUserMeetings: false });
        const outcome = await moveUser(fx.ctx, fx.tenant.id, fx.upn('cara'), 'Online');
        assert.equal(outcome.user.hostedOn, 'Online');
        assert.equal(outcome.coalesced, false);
        await assertQueued(fx, 'cara', 'UserMovedOnline', /cara@contoso\.com moved from on-premises to online/);
        const row = last(await fx.audit('cara'));
        assert.equal(row.Cmdlet, 'Move-CsUser');
        assert.match(row.Changes, /HostedOn: OnPremises → Online/);
        assert.equal(row.CorrelationId, outcome.correlationId);
      }));

    for (const row of YES.filter((r) => r.kind !== 'UserMovedOnline')) {
      it(`${row.title} queues a migration`, () =>
        withDirectoryFixture(t, async (fx) => {
          await row.prepare?.(fx);
          await row.run(fx);
          await assertQueued(fx, row.user, row.kind, row.reason);
        }));
    }

    it('moving a user to on-premises queues nothing because MMS does not support it', () =>
      withDirectoryFixture(t, async (fx) => {
        await moveUser(fx.ctx, fx.tenant.id, fx.upn('amy'), 'OnPremises');
        assert.equal((await fx.dialIn('amy')).HostedOn, 'OnPremises');
        await assertNotQueued(fx, 'amy', /online to on-premises is not supported by MMS.*Meeting Migration Tool/);
      }));

    it('assigning the licence to a user who stays on a third-party provider queues nothing because the ACP numbers are retained', () =>
      withDirectoryFixture(t, async (fx) => {
        await setLicense(fx.ctx, fx.tenant.id, fx.upn('eve'), { add: ['AudioConferencing'] });
        const row = await assertNotQueued(fx, 'eve', /eve@contoso\.com stays on Intercall: AutomaticallyReplaceAcpProvider is false, so the ACP numbers are retained/);
        assert.match(row.Reason, /Enable-CsOnlineDialInConferencingUser -Identity eve@contoso\.com -ReplaceProvider/);
        assert.equal((await fx.dialIn('eve')).ServiceNumber, ACP.tollNumber);
      }));

    it('resetting the leader PIN queues nothing because the PIN is not in invitations', () =>
      withDirectoryFixture(t, async (fx) => {
        await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { resetLeaderPin: true });
        const row = await assertNotQueued(fx, 'amy', /leader PIN is not part of meeting invitations/);
        assert.equal(row.Cmdlet, 'Set-CsOnlineDialInConferencingUser');
      }));

    it('changing the SIP address queues nothing because it is a documented non-trigger', () =>
      withDirectoryFixture(t, async (fx) => {
        await setSipAddress(fx.ctx, fx.tenant.id, fx.upn('amy'), 'sip:amy.shaw@contoso.com');
        const row = await assertNotQueued(fx, 'amy', /SIP address change does not trigger MMS \(documented non-trigger\).*Start-CsExMeetingMigration/);
        assert.match(row.Changes, /SipAddress: sip:amy@contoso\.com → sip:amy\.shaw@contoso\.com/);
      }));

    it('changing the tenant meeting URL queues nothing because it is a documented non-trigger', () =>
      withDirectoryFixture(t, async (fx) => {
        const after = await changeTenant(fx.ctx, fx.tenant.id, 'Update-CsTenantMeetingUrl', { meetingUrl: 'https://join.contoso.com' });
        assert.equal(after.meetingUrl, 'https://join.contoso.com');
        assert.deepEqual(await fx.requests(), []);
        const row = last(await fx.audit());
        assert.equal(row.Cmdlet, 'Update-CsTenantMeetingUrl');
        assert.equal(row.Decision, 'NoMigration');
        assert.match(row.Reason, /Update-CsTenantMeetingUrl does not trigger MMS \(documented non-trigger\)/);
        assert.match(row.Changes, /MeetingUrl: https:\/\/meet\.contoso\.com → https:\/\/join\.contoso\.com/);
      }));
  });

  describe(`${t.name}: trigger rules, the gates`, { skip: t.skip }, () => {
    for (const row of YES.filter((r) => r.audioConferencing)) {
      it(`with AutomaticallyMigrateUserMeetings false, ${row.title} queues nothing and the audit names the setting`, () =>
        withDirectoryFixture(t, async (fx) => {
          await row.prepare?.(fx);
          await fx.settings({ automaticallyMigrateUserMeetings: false });
          await row.run(fx);
          await assertNotQueued(fx, row.user, new RegExp(`^AutomaticallyMigrateUserMeetings is false: .*Start-CsExMeetingMigration -Identity ${row.user}@contoso\\.com`));
        }));
    }

    for (const row of YES) {
      it(`with MeetingMigrationEnabled false, ${row.title} queues nothing and the audit names the setting`, () =>
        withDirectoryFixture(t, async (fx) => {
          await row.prepare?.(fx);
          await fx.settings({ meetingMigrationEnabled: false });
          await row.run(fx);
          await assertNotQueued(fx, row.user, /^MeetingMigrationEnabled is false for the tenant; turn it on with Set-CsTenantMigrationConfiguration/);
        }));
    }

    it('an audio-conferencing change to a user still homed on-premises queues nothing, and Move-CsUser later queues the migration', () =>
      withDirectoryFixture(t, async (fx) => {
        await setLicense(fx.ctx, fx.tenant.id, fx.upn('cara'), { add: ['AudioConferencing'] });
        await assertNotQueued(fx, 'cara', /cara@contoso\.com is still homed on-premises and keeps being served there; Move-CsUser -Target Online will migrate/);
        await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('cara'), { resetConferenceId: true });
        await assertNotQueued(fx, 'cara', /still homed on-premises/);
        assert.equal((await fx.dialIn('cara')).BridgeName, 'Contoso On-Premises');

        await moveUser(fx.ctx, fx.tenant.id, fx.upn('cara'), 'Online');
        await assertQueued(fx, 'cara', 'UserMovedOnline', /moved from on-premises to online/);
        const shown = await fx.dialIn('cara');
        assert.equal(shown.BridgeName, 'Contoso US');
        assert.equal(shown.ServiceNumber, NUMBERS.seattle);
      }));

    it('a user whose mailbox is on-premises is not migrated and the audit says to use manual migration', () =>
      withDirectoryFixture(t, async (fx) => {
        await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('fay'), { resetConferenceId: true });
        await assertNotQueued(fx, 'fay', /the mailbox of fay@contoso\.com is on-premises.*use manual migration/);
        await disableDialIn(fx.ctx, fx.tenant.id, fx.upn('fay'));
        await assertNotQueued(fx, 'fay', /use manual migration/);
      }));

    it('moving a user online whose mailbox is on-premises queues nothing and the audit says to use manual migration', () =>
      withDirectoryFixture(t, async (fx) => {
        await moveUser(fx.ctx, fx.tenant.id, fx.upn('kim'), 'Online');
        await assertNotQueued(fx, 'kim', /the mailbox of kim@contoso\.com is on-premises.*use manual migration/);
      }));

    it('a user on a third-party provider is not migrated and the audit says the meetings must be updated manually', () =>
      withDirectoryFixture(t, async (fx) => {
        await moveUser(fx.ctx, fx.tenant.id, fx.upn('lee'), 'Online');
        await assertNotQueued(fx, 'lee', /lee@contoso\.com uses the third-party audio conferencing provider Intercall.*must be updated manually/);
        await setLicense(fx.ctx, fx.tenant.id, fx.upn('ivy'), { remove: ['AudioConferencing'] });
        await assertNotQueued(fx, 'ivy', /third-party audio conferencing provider Intercall.*must be updated manually/);
      }));

    it('putting a Microsoft user on a third-party provider queues nothing and the audit says the meetings must be updated manually', () =>
      withDirectoryFixture(t, async (fx) => {
        await setUserAcp(fx.ctx, fx.tenant.id, fx.upn('amy'), { name: 'PGi', tollNumber: '+16465550199', participantPasscode: '1111222' });
        await assertNotQueued(fx, 'amy', /amy@contoso\.com uses the third-party audio conferencing provider PGi.*must be updated manually/);
      }));
  });

  describe(`${t.name}: trigger rules, coalescing and order`, { skip: t.skip }, () => {
    it('three triggers on one user give one Pending request with three reasons and an audit row for each', () =>
      withDirectoryFixture(t, async (fx) => {
        const first = await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { resetConferenceId: true });
        fx.clock.advance(1_000);
        const second = await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { bridgeName: 'Contoso EU' });
        fx.clock.advance(1_000);
        const third = await disableDialIn(fx.ctx, fx.tenant.id, fx.upn('amy'));
        assert.deepEqual([first.coalesced, second.coalesced, third.coalesced], [false, true, true]);

        const requests = await fx.requests();
        assert.equal(requests.length, 1);
        const [request] = requests;
        assert.ok(request);
        assert.equal(request.state, 'Pending');
        assert.equal(request.migrationType, 'ToSameType');
        assert.deepEqual(request.triggerReasons, ['ConferenceIdChanged', 'BridgeChanged', 'AudioConferencingDisabled']);
        assert.equal(request.createDate, fx.readyAt);
        assert.equal(request.modifiedDate, fx.readyAt + 2_000);
        assert.equal(request.notBefore, fx.readyAt + 2_000 + MIGRATION_DELAY_MS, 'the wait runs from the last trigger');

        const rows = await fx.audit('amy');
        assert.deepEqual(rows.map((r) => [r.Decision, r.CorrelationId]), [
          ['Migrate', request.correlationId],
          ['Migrate', request.correlationId],
          ['Migrate', request.correlationId],
        ]);
        assert.doesNotMatch(rows[0]?.Reason ?? '', /merged/);
        for (const r of rows.slice(1)) assert.match(r.Reason, new RegExp(`\\(merged into the Pending request ${request.correlationId}\\)$`));
      }));

    it('the same trigger twice is recorded once in the Pending request and twice in the audit log', () =>
      withDirectoryFixture(t, async (fx) => {
        await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { resetConferenceId: true });
        await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { resetConferenceId: true });
        const requests = await fx.requests();
        assert.deepEqual(requests.map((r) => r.triggerReasons), [['ConferenceIdChanged']]);
        assert.deepEqual((await fx.audit('amy')).map((r) => r.Decision), ['Migrate', 'Migrate']);
      }));

    it('a trigger while the request is InProgress adds a follow-up Pending request and leaves the running one alone', () =>
      withDirectoryFixture(t, async (fx) => {
        const first = await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { resetConferenceId: true });
        assert.ok(first.correlationId);
        // What a worker's claim does to the row.
        await fx.db.kysely.updateTable('migration_requests').set({ state: 'InProgress' }).where('id', '=', first.correlationId).execute();
        fx.clock.advance(1_000);
        const second = await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { bridgeName: 'Contoso EU' });
        assert.equal(second.coalesced, false);
        assert.notEqual(second.correlationId, first.correlationId);
        const requests = await fx.requests('amy');
        assert.deepEqual(
          requests.map((r) => [r.correlationId, r.state, r.triggerReasons]),
          [[first.correlationId, 'InProgress', ['ConferenceIdChanged']], [second.correlationId, 'Pending', ['BridgeChanged']]],
        );
      }));

    it("assigning the licence before Move-CsUser, as the docs recommend, gives one migration request", () =>
      withDirectoryFixture(t, async (fx) => {
        await setLicense(fx.ctx, fx.tenant.id, fx.upn('cara'), { add: ['AudioConferencing'] });
        await moveUser(fx.ctx, fx.tenant.id, fx.upn('cara'), 'Online');
        const requests = await fx.requests();
        assert.deepEqual(requests.map((r) => [r.state, r.triggerReasons]), [['Pending', ['UserMovedOnline']]]);
        assert.deepEqual((await fx.audit('cara')).map((r) => [r.Cmdlet, r.Decision]), [
          ['Set-MmsUserLicense', 'NoMigration'],
          ['Move-CsUser', 'Migrate'],
        ]);
      }));

    it('assigning the licence after Move-CsUser merges into the Pending request while it waits', () =>
      withDirectoryFixture(t, async (fx) => {
        const moved = await moveUser(fx.ctx, fx.tenant.id, fx.upn('cara'), 'Online');
        const licensed = await setLicense(fx.ctx, fx.tenant.id, fx.upn('cara'), { add: ['AudioConferencing'] });
        assert.equal(licensed.coalesced, true);
        assert.equal(licensed.correlationId, moved.correlationId);
        assert.deepEqual((await fx.requests()).map((r) => r.triggerReasons), [['UserMovedOnline', 'LicenseAssigned']]);
      }));

    it('assigning the licence after Move-CsUser has been migrated migrates the meetings a second time', () =>
      withDirectoryFixture(t, async (fx) => {
        const moved = await moveUser(fx.ctx, fx.tenant.id, fx.upn('cara'), 'Online');
        assert.ok(moved.correlationId);
        await fx.db.kysely.updateTable('migration_requests').set({ state: 'Succeeded' }).where('id', '=', moved.correlationId).execute();
        fx.clock.advance(60_000);
        await setLicense(fx.ctx, fx.tenant.id, fx.upn('cara'), { add: ['AudioConferencing'] });
        const requests = await fx.requests('cara');
        assert.deepEqual(requests.map((r) => [r.state, r.triggerReasons]), [
          ['Succeeded', ['UserMovedOnline']],
          ['Pending', ['LicenseAssigned']],
        ]);
      }));
  });

  describe(`${t.name}: trigger rules, unassigning a number`, { skip: t.skip }, () => {
    it('unassigning the default toll number queues only the users whose meetings show it and moves the bridge default to the next number', () =>
      withDirectoryFixture(t, async (fx) => {
        const { bridge, outcomes } = await unregisterServiceNumber(fx.ctx, fx.tenant.id, { number: '+1 425 555 0100', bridgeName: 'contoso us', removeDefaultServiceNumber: true });
        assert.equal(bridge.defaultTollNumber, NUMBERS.redmond);
        assert.equal(bridge.defaultTollFreeNumber, NUMBERS.tollFreeA);
        assert.deepEqual(bridge.numbers.map((n) => n.number), [NUMBERS.redmond, NUMBERS.tollFreeA, NUMBERS.tollFreeB]);
        assert.deepEqual(outcomes.map((o) => [o.user.upn, o.decision.migrate]), [['amy@contoso.com', true], ['fay@contoso.com', false]]);

        const requests = await fx.requests();
        assert.deepEqual(requests.map((r) => [r.userId, r.triggerReasons]), [[await fx.userId('amy'), ['NumberUnassigned']]]);
        assert.equal((await fx.dialIn('amy')).ServiceNumber, NUMBERS.redmond);
        assert.match(last(await fx.audit('amy')).Changes, /OnlineMeetingInformation: .*toll \+14255550100.* → .*toll \+14255550101/);
        assert.match(last(await fx.audit('fay')).Reason, /use manual migration/);

        // gus has his own toll number, ben is on another bridge: neither is touched.
        assert.equal((await fx.dialIn('gus')).ServiceNumber, NUMBERS.redmond);
        assert.equal((await fx.dialIn('ben')).ServiceNumber, NUMBERS.london);
        assert.deepEqual(await fx.audit('gus'), []);
        assert.deepEqual(await fx.audit('ben'), []);

        const summary = last(await fx.audit());
        assert.equal(summary.Cmdlet, 'Unregister-CsOnlineDialInConferencingServiceNumber');
        assert.equal(summary.Target, 'Contoso US');
        assert.equal(summary.Decision, 'Migrate');
        assert.match(summary.Reason, /^2 user\(s\) showed \+14255550100 in their meetings; 1 queued for migration/);
      }));

    it("unassigning a user's own toll number queues that user and falls back to the bridge default", () =>
      withDirectoryFixture(t, async (fx) => {
        const { bridge, outcomes } = await unregisterServiceNumber(fx.ctx, fx.tenant.id, { number: NUMBERS.redmond, bridgeName: 'Contoso US' });
        assert.equal(bridge.defaultTollNumber, NUMBERS.seattle);
        assert.deepEqual(outcomes.map((o) => o.user.upn), ['gus@contoso.com']);
        assert.deepEqual((await fx.requests()).map((r) => r.triggerReasons), [['NumberUnassigned']]);
        assert.deepEqual((await fx.requests('gus')).length, 1);
        assert.equal((await fx.dialIn('gus')).ServiceNumber, NUMBERS.seattle);
        assert.equal((await fx.dialIn('amy')).ServiceNumber, NUMBERS.seattle);
      }));

    it('unassigning the default toll-free number moves every user showing it to the next toll-free number', () =>
      withDirectoryFixture(t, async (fx) => {
        const { bridge } = await unregisterServiceNumber(fx.ctx, fx.tenant.id, { number: NUMBERS.tollFreeA, bridgeName: 'Contoso US', removeDefaultServiceNumber: true });
        assert.equal(bridge.defaultTollFreeNumber, NUMBERS.tollFreeB);
        const requests = await fx.requests();
        const queued = await Promise.all(['amy', 'gus'].map((n) => fx.userId(n)));
        assert.deepEqual(requests.map((r) => r.userId).sort(), queued.sort());
        for (const r of requests) assert.deepEqual(r.triggerReasons, ['NumberUnassigned']);
        assert.equal((await fx.dialIn('amy')).TollFreeServiceNumber, NUMBERS.tollFreeB);
        assert.equal((await fx.dialIn('ben')).TollFreeServiceNumber, NUMBERS.londonTollFree);
      }));

    it('unassigning the only toll number of a bridge is refused and changes nothing', () =>
      withDirectoryFixture(t, async (fx) => {
        await assert.rejects(
          unregisterServiceNumber(fx.ctx, fx.tenant.id, { number: NUMBERS.london, bridgeName: 'Contoso EU' }),
          (err: unknown) => err instanceof MmsError && err.code === 'Conflict' && /only toll number of bridge Contoso EU/.test(err.message),
        );
        assert.equal((await fx.dialIn('ben')).ServiceNumber, NUMBERS.london);
        assert.deepEqual(await fx.requests(), []);
        assert.deepEqual(await fx.audit(), []);
      }));

    it('a user whose own toll number was unassigned while audio conferencing was off gets the bridge default when it is enabled again', () =>
      withDirectoryFixture(t, async (fx) => {
        // hal is licensed but disabled: his meetings show no number, so the unassignment passes him by.
        await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('hal'), { serviceNumber: NUMBERS.redmond });
        await unregisterServiceNumber(fx.ctx, fx.tenant.id, { number: NUMBERS.redmond, bridgeName: 'Contoso US' });
        await enableDialIn(fx.ctx, fx.tenant.id, [fx.upn('hal')], false);
        const shown = await fx.dialIn('hal');
        assert.equal(shown.BridgeName, 'Contoso US');
        assert.equal(shown.ServiceNumber, NUMBERS.seattle, 'the unassigned number must not leave hal without a toll number');
      }));
  });

  describe(`${t.name}: trigger rules, no-ops`, { skip: t.skip }, () => {
    it('giving the conference ID the user already has succeeds with "no change" and queues nothing', () =>
      withDirectoryFixture(t, async (fx) => {
        const current = (await fx.dialIn('amy')).ConferenceId;
        assert.match(current, /^\d{7}$/);
        const r = await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { conferenceId: current });
        assert.equal(r.decision.reason, "no change: the values given are amy@contoso.com's current ones");
        assert.deepEqual(await fx.requests(), []);
        assert.deepEqual(await fx.audit(), []);
      }));

    it('naming as default the toll number the meetings already show queues nothing and the audit says they are already correct', () =>
      withDirectoryFixture(t, async (fx) => {
        await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('amy'), { serviceNumber: NUMBERS.seattle });
        await assertNotQueued(fx, 'amy', /online meeting information of amy@contoso\.com is unchanged, so the meetings are already correct/);
      }));

    it('moving a user to the bridge they are already on succeeds with "no change" and queues nothing', () =>
      withDirectoryFixture(t, async (fx) => {
        const r = await setDialInUser(fx.ctx, fx.tenant.id, fx.upn('ben'), { bridgeName: 'Contoso EU' });
        assert.match(r.decision.reason, /^no change: /);
        assert.deepEqual(await fx.requests(), []);
      }));
  });

  describe(`${t.name}: trigger rules, tenant isolation`, { skip: t.skip }, () => {
    it("an identity of one tenant is not found through another tenant's commands", () =>
      withDirectoryFixture(t, async (fx) => {
        const fabrikam = await fx.addTenant({ name: 'Fabrikam', domain: 'fabrikam.com', users: [{ name: 'amy', licensed: true }] });
        const contosoAmy = await fx.userId('amy');
        const notFound = (err: unknown) => err instanceof MmsError && err.code === 'NotFound' && /in tenant Fabrikam/.test(err.message);

        await assert.rejects(moveUser(fx.ctx, fabrikam.tenant.id, 'cara@contoso.com', 'Online'), notFound);
        await assert.rejects(setDialInUser(fx.ctx, fabrikam.tenant.id, contosoAmy, { resetConferenceId: true }), notFound);
        await assert.rejects(disableDialIn(fx.ctx, fabrikam.tenant.id, 'sip:amy@contoso.com'), notFound);
        const [item] = await enableDialIn(fx.ctx, fabrikam.tenant.id, ['ivy@contoso.com'], true);
        assert.equal(item?.status, 'Failed');
        assert.match(item?.status === 'Failed' ? item.reason : '', /no user 'ivy@contoso\.com' in tenant Fabrikam/);
        await assert.rejects(auditLog(fx.db, fabrikam.tenant, { identity: 'amy@contoso.com' }), notFound);

        assert.equal((await fx.dialIn('cara')).HostedOn, 'OnPremises');
        assert.equal((await fx.dialIn('ivy')).Provider, 'Intercall');
        assert.deepEqual(await fx.requests(), []);
        assert.deepEqual(await fabrikam.requests(), []);
        assert.deepEqual(await fx.audit(), []);
      }));

    it("a change in one tenant queues and audits nothing in the other", () =>
      withDirectoryFixture(t, async (fx) => {
        const fabrikam = await fx.addTenant({ name: 'Fabrikam', domain: 'fabrikam.com', users: [{ name: 'amy', licensed: true }] });
        await setDialInUser(fx.ctx, fabrikam.tenant.id, 'amy@fabrikam.com', { resetConferenceId: true });
        assert.deepEqual(await fx.requests(), []);
        assert.deepEqual((await fabrikam.requests()).map((r) => [r.userId, r.triggerReasons]), [[await fabrikam.userId('amy'), ['ConferenceIdChanged']]]);
        assert.deepEqual(await fx.audit(), []);
        assert.deepEqual((await fabrikam.audit()).map((r) => [r.Target, r.Decision]), [['amy@fabrikam.com', 'Migrate']]);
      }));

    it("unassigning a number through another tenant does not reach this tenant's bridge", () =>
      withDirectoryFixture(t, async (fx) => {
        const fabrikam = await fx.addTenant({ name: 'Fabrikam', domain: 'fabrikam.com', users: [{ name: 'amy', licensed: true }] });
        // Both tenants carry the same service numbers; only Fabrikam's bridge may change.
        await unregisterServiceNumber(fx.ctx, fabrikam.tenant.id, { number: NUMBERS.seattle, bridgeId: fabrikam.bridges.default.id, removeDefaultServiceNumber: true });
        await assert.rejects(
          unregisterServiceNumber(fx.ctx, fabrikam.tenant.id, { number: NUMBERS.redmond, bridgeId: fx.bridges.default.id }),
          (err: unknown) => err instanceof MmsError && err.code === 'NotFound',
        );
        assert.equal((await fx.dialIn('amy')).ServiceNumber, NUMBERS.seattle);
        assert.equal((await fabrikam.dialIn('amy')).ServiceNumber, NUMBERS.redmond);
        assert.deepEqual(await fx.requests(), []);
        assert.deepEqual(await fx.audit(), []);
      }));

    it("a user cannot be created in a tenant under another tenant's domain", () =>
      withDirectoryFixture(t, async (fx) => {
        const fabrikam = await fx.addTenant({ name: 'Fabrikam', domain: 'fabrikam.com' });
        await assert.rejects(
          newUser(fx.ctx, fabrikam.tenant.id, { userPrincipalName: 'zoe@contoso.com', displayName: 'Zoe' }),
          (err: unknown) => err instanceof MmsError && err.code === 'Usage' && /contoso\.com is not a verified domain of Fabrikam/.test(err.message),
        );
        assert.deepEqual(await fabrikam.audit(), []);
      }));
  });
}
