// -WhatIf on Enable-, Disable- and Set-CsOnlineDialInConferencingUser runs the real directory operation in a
// transaction that is rolled back: it writes nothing (users, audit_log, migration_requests, outbox are as before,
// row for row), it answers the decision the real call then makes (MeetingMigration and Reason), a refusal (no
// licence, a third-party provider) is the real one, and a -ResetLeaderPin preview neither shows nor stores a PIN.
// Both databases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { TEST_DATABASES } from './helpers/databases.js';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { runCli } from '../src/cli/run-cli.js';
import type { Db } from '../src/store/index.js';

const NOW = Date.UTC(2026, 10, 2, 9);
type Row = Record<string, unknown>;

function sink() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, read: () => text };
}

async function mms(url: string, ...argv: string[]) {
  const out = sink();
  const err = sink();
  const code = await runCli(argv, { stdout: out.stream, stderr: err.stream, env: { MMS_DATABASE_URL: url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'tester' }, isTty: false, now: () => NOW }, CMDLETS);
  return { code, out: out.read(), err: err.read() };
}

async function ok(url: string, ...argv: string[]): Promise<unknown> {
  const r = await mms(url, ...argv, '--json');
  assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
  return r.out.trim() ? JSON.parse(r.out) : null;
}

/** Everything a dial-in change could write: the users (every column, PIN hash included) and the other tables' rows. */
async function snapshot(db: Db) {
  const k = db.kysely;
  const users = await k.selectFrom('users').selectAll().orderBy('id').execute();
  const count = async (table: 'audit_log' | 'migration_requests' | 'outbox') =>
    Number((await k.selectFrom(table).select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return { users: JSON.stringify(users), userCount: users.length, audit: await count('audit_log'), requests: await count('migration_requests'), outbox: await count('outbox') };
}

/** The real call's answer as the preview words it. */
// A real call may show a PIN it issued once (no email could carry it: no MMS_SECRET_KEY on PostgreSQL here); a
// preview issues none, so it never has LeaderPin.
const asPreview = ({ LeaderPin: _pin, LeaderPinNote: _note, ...real }: Row): Row => ({ ...real, MeetingMigration: String(real.MeetingMigration).startsWith('Queued') ? 'WouldQueue' : 'None', CorrelationId: '' });

for (const t of TEST_DATABASES) {
  describe(`${t.name}: -WhatIf on the dial-in user commands`, { skip: t.skip }, () => {
    it('previews write nothing and answer what the real call then answers, refusals included; a PIN reset preview shows no PIN', { timeout: 120_000 }, async () => {
      const { db, url, drop } = await t.fresh();
      try {
        await ok(url, 'New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com');
        await ok(url, 'New-MmsBridge', '-Name', 'Contoso US', '-TollNumber', '+14255550100 (Seattle),+12065550100 (Seattle)', '-TollFreeNumber', '+18005550199 (United States)');
        await ok(url, 'New-MmsBridge', '-Name', 'Contoso EU', '-TollNumber', '+493055550100 (Berlin)');
        for (const u of ['amy', 'bob', 'carol']) await ok(url, 'New-MmsUser', `${u}@contoso.com`, '-DisplayName', u);
        for (const u of ['amy', 'carol']) await ok(url, 'Set-MmsUserLicense', `${u}@contoso.com`, '-AddLicenses', 'AudioConferencing');
        await ok(url, 'Set-CsUserAcp', 'carol@contoso.com', '-Name', 'Intercall', '-TollNumber', '+16465550100', '-ParticipantPasscode', '5550123');

        /** Runs the preview, checks it wrote nothing, runs the real call and checks both answered the same. */
        const same = async (argv: string[]) => {
          const before = await snapshot(db);
          const preview = await ok(url, ...argv, '-WhatIf');
          assert.deepEqual(await snapshot(db), before, `${argv.join(' ')} -WhatIf wrote nothing`);
          const real = await ok(url, ...argv);
          const rows = (v: unknown) => (Array.isArray(v) ? v : [v]) as Row[];
          assert.deepEqual(rows(preview), rows(real).map(asPreview), `${argv.join(' ')}: the preview is the real answer`);
          return { preview: rows(preview), real: rows(real), before };
        };

        // Enable for several users: the unlicensed one is refused in the preview exactly as by the real call.
        const enable = await same(['Enable-CsOnlineDialInConferencingUser', '-Identity', 'amy@contoso.com,bob@contoso.com']);
        assert.deepEqual(enable.preview.map((r) => r.Status), ['Done', 'Failed']);
        assert.match(String(enable.preview[1]?.Reason), /bob@contoso\.com has no Audio Conferencing licence/);
        // A preview of only refusals reports them (the real call fails with the same reason).
        const refused = (await ok(url, 'Enable-CsOnlineDialInConferencingUser', '-Identity', 'bob@contoso.com', '-WhatIf')) as Row[];
        assert.equal(refused[0]?.Status, 'Failed');
        const realRefusal = await mms(url, 'Enable-CsOnlineDialInConferencingUser', '-Identity', 'bob@contoso.com');
        assert.notEqual(realRefusal.code, 0);
        assert.ok(realRefusal.err.includes(String(refused[0]?.Reason)), realRefusal.err);

        // The provider move, and the commands on a Microsoft user.
        const move = await same(['Enable-CsOnlineDialInConferencingUser', '-Identity', 'carol@contoso.com', '-ReplaceProvider']);
        assert.equal(move.preview[0]?.MeetingMigration, 'WouldQueue', JSON.stringify(move.preview));
        const bridge = await same(['Set-CsOnlineDialInConferencingUser', '-Identity', 'amy@contoso.com', '-BridgeName', 'Contoso EU']);
        assert.equal(bridge.preview[0]?.MeetingMigration, 'WouldQueue', JSON.stringify(bridge.preview));
        await same(['Set-CsOnlineDialInConferencingUser', '-Identity', 'carol@contoso.com', '-TollFreeServiceNumber', '+18005550199']);
        await same(['Set-CsOnlineDialInConferencingUser', '-Identity', 'carol@contoso.com', '-ServiceNumber', '+12065550100']);
        await same(['Set-CsOnlineDialInConferencingUser', '-Identity', 'carol@contoso.com', '-ResetConferenceId']);
        await same(['Disable-CsOnlineDialInConferencingUser', '-Identity', 'carol@contoso.com']);
        // Already as asked: the preview says "no change", as the real call does.
        const again = await same(['Disable-CsOnlineDialInConferencingUser', '-Identity', 'carol@contoso.com']);
        assert.match(String(again.preview[0]?.Reason), /^no change:/);

        // A refusal of Set (a number not on the user's bridge) is the real one.
        const badPreview = await mms(url, 'Set-CsOnlineDialInConferencingUser', '-Identity', 'amy@contoso.com', '-ServiceNumber', '+14255550100', '-WhatIf');
        const badReal = await mms(url, 'Set-CsOnlineDialInConferencingUser', '-Identity', 'amy@contoso.com', '-ServiceNumber', '+14255550100');
        assert.notEqual(badPreview.code, 0);
        assert.equal(badPreview.code, badReal.code);
        assert.equal(badPreview.err, badReal.err);

        // -ResetLeaderPin -WhatIf: the PIN hash stays (snapshot), and the answer names no PIN.
        const before = await snapshot(db);
        const pin = await mms(url, 'Set-CsOnlineDialInConferencingUser', '-Identity', 'amy@contoso.com', '-ResetLeaderPin', '-WhatIf', '--json');
        assert.equal(pin.code, 0, pin.err);
        assert.deepEqual(await snapshot(db), before);
        const answer = JSON.parse(pin.out) as Row;
        assert.deepEqual(Object.keys(answer).sort(), ['CorrelationId', 'MeetingMigration', 'Reason', 'UserPrincipalName']);
        assert.doesNotMatch(pin.out + pin.err, /pin\W*\d{4,}/i);
        await same(['Set-CsOnlineDialInConferencingUser', '-Identity', 'amy@contoso.com', '-ResetLeaderPin']);
        assert.notEqual((await snapshot(db)).users, before.users, 'the real reset stores a new PIN hash (the snapshot sees it)');
      } finally {
        await drop();
      }
    });
  });
}
