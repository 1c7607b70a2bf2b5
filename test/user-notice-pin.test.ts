// Issue 12 §3, the admin's side: with AutomaticallySendEmailsToUsers false nothing is sent and a PIN a change issues
// is shown once in that command's answer (never in a listing, the audit log or the database); -SendEmail
// [-SendEmailToAddress] sends one email on demand, through the CLI and through the REST route the cmdlet uses, with
// a PIN only when the command issued one; a bad address is one clear line; Get-MmsOutbox -Kind UserNotice lists the
// emails while the default listing keeps to the meetings' notifications; `mms help` documents every new parameter
// with an example. SQLite and PostgreSQL, real SMTP server, mailparser.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { loadConfig } from '../src/config.js';
import { hashLeaderPin, resolveTenant, verifyLeaderPin } from '../src/directory/index.js';
import { randomBytes, scryptSync } from 'node:crypto';
import { createApiToken } from '../src/http/api-tokens.js';
import { buildApi } from '../src/http/app.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { runMms } from './helpers/cli-run.js';
import { PIN_LENGTH, pinIn, wholeMessage, withNoticeWorld } from './helpers/user-notice-fixture.js';

const count = (text: string, s: string) => text.split(s).length - 1;

describe('leader PIN hashes', () => {
  it('are peppered scrypt with their parameters stored, verify only with the same pepper, and hashes of before issue 12 keep verifying', async () => {
    const pepper = randomBytes(32);
    const hash = await hashLeaderPin('48213', pepper);
    assert.match(hash, /^pin2\$scrypt\$N=16384,r=8,p=1\$k:[0-9a-f]{12}\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    assert.equal(hash.includes('48213'), false);
    assert.equal(await verifyLeaderPin('48213', hash, pepper), true);
    assert.equal(await verifyLeaderPin('48214', hash, pepper), false);
    assert.equal(await verifyLeaderPin('48213', hash, randomBytes(32)), false, 'another key: no match');
    assert.equal(await verifyLeaderPin('48213', hash, null), false);
    assert.notEqual(await hashLeaderPin('48213', pepper), hash, 'salted');
    const unpeppered = await hashLeaderPin('48213', null);
    assert.match(unpeppered, /\$none\$/);
    assert.equal(await verifyLeaderPin('48213', unpeppered, null), true);
    // The stored form before issue 12: salted scrypt N=4096 of the bare PIN.
    const salt = randomBytes(16);
    const legacy = `scrypt$4096$${salt.toString('base64')}$${scryptSync('48213', salt, 32, { N: 4096 }).toString('base64')}`;
    assert.equal(await verifyLeaderPin('48213', legacy, pepper), true);
    assert.equal(await verifyLeaderPin('48212', legacy, pepper), false);
    assert.equal(await verifyLeaderPin('48213', '', pepper), false, 'a user never issued a PIN');
  });
});

describe('mms help for the emails to users', () => {
  for (const [cmdlet, param] of [
    ['Set-CsOnlineDialInConferencingUser', 'SendEmail'], ['Set-CsOnlineDialInConferencingUser', 'SendEmailToAddress'],
    ['Enable-CsOnlineDialInConferencingUser', 'SendEmail'], ['Enable-CsOnlineDialInConferencingUser', 'SendEmailToAddress'],
    ['Set-CsOnlineDialInConferencingTenantSettings', 'AutomaticallySendEmailsToUsers'], ['Get-MmsOutbox', 'Kind'],
  ] as const) {
    it(`${cmdlet} -${param} has help text and an example`, async () => {
      const c = CMDLETS.find((x) => x.name === cmdlet);
      assert.ok(c && c.params.some((p) => p.name === param && p.help.length > 20), `${cmdlet} has no documented -${param}`);
      assert.ok(c.examples.some((e) => e.split(' ').includes(`-${param}`)), `no example of ${cmdlet} uses -${param}`);
      const help = await runMms({ MMS_DATABASE_URL: ':memory:' }, () => 0, ['help', cmdlet]);
      assert.equal(help.code, 0, help.err);
      assert.ok(help.out.includes(`-${param}`), help.out);
    });
  }
});

for (const t of TEST_DATABASES) {
  describe(`${t.name}: the admin's side of the emails to users`, { skip: t.skip }, () => {
    it('AutomaticallySendEmailsToUsers false sends nothing and shows a new PIN once, in that answer only; -SendEmail still sends, with a PIN only when the command issued one', { timeout: 120_000 }, () =>
      withNoticeWorld(t, async (w) => {
        const off = await w.json('Set-CsOnlineDialInConferencingTenantSettings', '-AutomaticallySendEmailsToUsers', 'false');
        assert.equal(off.AutomaticallySendEmailsToUsers, false);
        assert.equal((await w.json('Get-CsOnlineDialInConferencingTenantSettings')).AutomaticallySendEmailsToUsers, false);

        const lic = await w.mms('Set-MmsUserLicense', 'amy@contoso.com', '-AddLicenses', 'AudioConferencing', '--json');
        assert.equal(lic.code, 0, lic.err);
        const answer = JSON.parse(lic.out) as Record<string, string>;
        const pin = String(answer.LeaderPin);
        assert.match(pin, new RegExp(`^\\d{${PIN_LENGTH}}$`));
        assert.match(String(answer.LeaderPinNote), /^shown once and stored only as a hash: pass it on to the user now/);
        assert.equal(count(lic.out + lic.err, pin), 1, 'the PIN is printed once');
        assert.equal(await w.pinVerifies('amy@contoso.com', pin), true);
        await w.assertNothingSent('emails are off');
        assert.equal((await w.json('Get-MmsOutbox', '-Kind', 'UserNotice')).length, 0, 'nothing queued either');
        // Nowhere else: not in listings, the audit log or the database.
        for (const argv of [['Get-CsOnlineDialInConferencingUser', 'amy@contoso.com'], ['Get-MmsAuditLog', '-Identity', 'amy@contoso.com'], ['Get-MmsOutbox', '-Kind', 'All']]) {
          const r = await w.mms(...argv, '--json');
          assert.equal(r.out.includes(pin), false, `${argv[0]} shows the PIN`);
        }
        assert.equal((await w.storedBytes()).includes(pin), false, 'the PIN is stored in clear');

        // A change that issues no PIN shows none; a reset shows the new one once; its preview shows none.
        const moved = await w.json('Set-CsOnlineDialInConferencingUser', 'amy@contoso.com', '-ConferenceId', '4455667');
        assert.equal('LeaderPin' in moved, false);
        const preview = await w.json('Set-CsOnlineDialInConferencingUser', 'amy@contoso.com', '-ResetLeaderPin', '-WhatIf');
        assert.equal('LeaderPin' in preview, false);
        assert.equal(await w.pinVerifies('amy@contoso.com', pin), true, 'a preview changes no PIN');
        const reset = await w.json('Set-CsOnlineDialInConferencingUser', 'amy@contoso.com', '-ResetLeaderPin');
        const second = String(reset.LeaderPin);
        assert.match(second, new RegExp(`^\\d{${PIN_LENGTH}}$`));
        assert.equal(await w.pinVerifies('amy@contoso.com', second), true);
        await w.assertNothingSent('emails are off');

        // -SendEmail sends anyway: with the PIN this command issues, to the user.
        const emailed = await w.json('Set-CsOnlineDialInConferencingUser', 'amy@contoso.com', '-ResetLeaderPin', '-SendEmail');
        assert.equal('LeaderPin' in emailed, false, 'emailed, so not shown');
        assert.match(String(emailed.EmailQueued), /^amy@contoso\.com \(outbox \d+, with the new leader PIN\)$/);
        const mail = await w.nextMail();
        assert.equal(mail.mail.subject, 'Your new meeting leader PIN');
        const third = pinIn(mail, 'Leader PIN: ');
        assert.equal(await w.pinVerifies('amy@contoso.com', third), true);
        assert.ok((mail.mail.text ?? '').includes('\nConference ID: 4455667\n'), mail.mail.text);

        // -SendEmail alone: the current details to another address, and no PIN (none was issued).
        const other = await w.json('Set-CsOnlineDialInConferencingUser', 'amy@contoso.com', '-SendEmail', '-SendEmailToAddress', 'amy.shaw@fabrikam.example');
        assert.match(String(other.EmailQueued), /^amy\.shaw@fabrikam\.example \(outbox \d+, no PIN\)$/);
        assert.match(String(other.Reason), /^no change: only the email was asked for/);
        const info = await w.nextMail();
        assert.deepEqual(info.envelope.to, ['amy.shaw@fabrikam.example']);
        assert.equal(info.mail.subject, 'Your audio conferencing details');
        assert.ok((info.mail.text ?? '').includes('\nConference ID: 4455667\n'), info.mail.text);
        for (const p of [pin, second, third]) assert.equal(wholeMessage(info).includes(p), false, 'no PIN in an on-demand email');
        assert.doesNotMatch(wholeMessage(info), /Leader PIN/);

        // Enable -SendEmail on a user already enabled: the details again, in French for camille after hers.
        const enabled = await w.json('Enable-CsOnlineDialInConferencingUser', 'amy@contoso.com', '-SendEmail');
        assert.match(String(enabled[0]?.EmailQueued), /^amy@contoso\.com \(outbox \d+, no PIN\)$/);
        assert.equal((await w.nextMail()).mail.subject, 'Your audio conferencing details');
        await w.json('Set-MmsUserLicense', 'camille@contoso.com', '-AddLicenses', 'AudioConferencing');
        const fr = await w.json('Enable-CsOnlineDialInConferencingUser', 'camille@contoso.com', '-SendEmail');
        assert.equal(fr[0]?.Status, 'Done');
        const frMail = await w.nextMail();
        assert.equal(frMail.mail.subject, 'Vos informations d’audioconférence');
        assert.match(frMail.mail.text ?? '', /^Voici les informations d’appel de vos réunions\.$/m);
        await w.assertNothingSent('only what was asked for');
      }));

    it('a bad -SendEmailToAddress, or one without -SendEmail, is one clear line from the CLI and a 400 from the REST route, which otherwise sends', { timeout: 120_000 }, () =>
      withNoticeWorld(t, async (w) => {
        await w.json('Set-MmsUserLicense', 'amy@contoso.com', '-AddLicenses', 'AudioConferencing');
        await w.nextMail();
        for (const [argv, line] of [
          [['-SendEmail', '-SendEmailToAddress', 'amy at contoso'], "mms: SendEmailToAddress 'amy at contoso' is not an email address: write name@domain, e.g. -SendEmailToAddress amy.shaw@contoso.com"],
          [['-SendEmail', '-SendEmailToAddress', 'a@b@contoso.com'], "mms: SendEmailToAddress 'a@b@contoso.com' is not an email address: write name@domain, e.g. -SendEmailToAddress amy.shaw@contoso.com"],
          [['-SendEmailToAddress', 'amy.shaw@fabrikam.example'], 'mms: -SendEmailToAddress says where the email goes: give -SendEmail with it, e.g. -SendEmail -SendEmailToAddress amy.shaw@contoso.com'],
        ] as const) {
          const r = await w.mms('Set-CsOnlineDialInConferencingUser', 'amy@contoso.com', ...argv);
          assert.equal(r.code, 2, r.err);
          assert.equal(r.err, `${line}\n`);
        }
        const bad = await w.mms('Enable-CsOnlineDialInConferencingUser', 'amy@contoso.com', '-SendEmail', '-SendEmailToAddress', 'nobody');
        assert.equal(bad.code, 2);
        assert.match(bad.err, /^mms: SendEmailToAddress 'nobody' is not an email address: write name@domain/);
        const accented = await w.mms('Set-CsOnlineDialInConferencingUser', 'amy@contoso.com', '-SendEmail', '-SendEmailToAddress', 'amélie@contoso.com');
        assert.equal(accented.code, 2, 'a local part the To field cannot carry as it is');
        // camille has no dial-in: nothing to send, one line saying what to do.
        const none = await w.mms('Set-CsOnlineDialInConferencingUser', 'camille@contoso.com', '-SendEmail');
        assert.equal(none.code, 1);
        assert.equal(none.err, 'mms: camille@contoso.com has no Microsoft audio conferencing, so there are no dial-in details to email: enable it first (Enable-CsOnlineDialInConferencingUser -Identity camille@contoso.com -SendEmail)\n');
        await w.assertNothingSent('refused commands send nothing');

        const tenant = await resolveTenant(w.db, 'Contoso');
        const { token } = await createApiToken(w.db, { name: 'admin', role: 'TenantAdmin', tenant, lifetimeMs: 3_600_000, actor: 'tester', now: Date.now() });
        const app = await buildApi({ db: w.db, config: loadConfig({ MMS_DATABASE_URL: w.url, MMS_MIGRATION_DELAY: '0', MMS_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') }), cmdlets: CMDLETS, now: () => Date.now() });
        try {
          const patch = (payload: unknown) => app.inject({ method: 'PATCH', url: '/api/v1/dial-in-users/amy@contoso.com', payload: payload as never, headers: { authorization: `Bearer ${token}` } });
          const refused = await patch({ SendEmail: true, SendEmailToAddress: 'amy at contoso' });
          assert.equal(refused.statusCode, 400);
          assert.match(refused.json().message, /^SendEmailToAddress 'amy at contoso' is not an email address/);
          const sent = await patch({ SendEmail: true, SendEmailToAddress: 'helpdesk@fabrikam.example' });
          assert.equal(sent.statusCode, 200, sent.body);
          assert.match(String(sent.json().EmailQueued), /^helpdesk@fabrikam\.example \(outbox \d+, no PIN\)$/);
          const mail = await w.nextMail();
          assert.deepEqual(mail.envelope.to, ['helpdesk@fabrikam.example']);
          assert.equal(mail.mail.subject, 'Your audio conferencing details');
        } finally {
          await app.close();
        }
      }));

    it('Get-MmsOutbox -Kind UserNotice lists the emails (one user\'s with -Identity); the default listing keeps to meetings; -Full never shows the PIN', { timeout: 120_000 }, () =>
      withNoticeWorld(t, async (w) => {
        await w.json('Set-MmsUserLicense', 'amy@contoso.com', '-AddLicenses', 'AudioConferencing');
        await w.json('Set-MmsUserLicense', 'camille@contoso.com', '-AddLicenses', 'AudioConferencing');
        const pins = [pinIn(await w.nextMail(), 'Leader PIN: '), pinIn(await w.nextMail(), 'Code PIN d’organisateur\u00a0: ')];
        await w.allSettled();
        const notices = await w.json('Get-MmsOutbox', '-Kind', 'UserNotice');
        assert.deepEqual(notices.map((r) => [r.Recipient, r.Delivery, r.State, r.Subject]), [
          ['amy@contoso.com', 'UserNotice', 'Sent', 'Your audio conferencing details'],
          ['camille@contoso.com', 'UserNotice', 'Sent', 'Vos informations d’audioconférence'],
        ]);
        assert.deepEqual((await w.json('Get-MmsOutbox', '-Kind', 'UserNotice', '-Identity', 'camille@contoso.com')).map((r) => r.Recipient), ['camille@contoso.com']);
        assert.deepEqual(await w.json('Get-MmsOutbox'), [], 'the default listing is the meetings\' notifications, as before');
        assert.deepEqual(await w.json('Get-MmsOutbox', '-Kind', 'iMIP'), []);
        assert.equal((await w.json('Get-MmsOutbox', '-Kind', 'All')).length, 2);
        const table = (await w.mms('Get-MmsOutbox', '-Kind', 'UserNotice')).out;
        assert.match(table, /Your audio conferencing details +amy@contoso\.com +UserNotice +Sent/);
        const full = await w.mms('Get-MmsOutbox', '-Id', String(notices[0]?.Id), '-Full', '--json');
        assert.equal(full.code, 0, full.err);
        const whole = JSON.parse(full.out) as Record<string, unknown>;
        assert.deepEqual([whole.To, whole.MailSubject, (whole.Notice as Record<string, unknown>).kind], ['amy@contoso.com', 'Your audio conferencing details', 'DialInAssigned']);
        for (const p of pins) assert.equal(full.out.includes(p), false, '-Full shows no PIN');
        const kind = await w.mms('Get-MmsOutbox', '-Kind', 'Notices');
        assert.equal(kind.code, 2);
        assert.match(kind.err, /^mms: .*Kind.*Notices/);
      }));
  });
}
