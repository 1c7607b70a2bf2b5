// Issue 12 §3: users are emailed about their own dial-in settings, in their language, through the outbox and a
// real SMTP server, and each email is read back by mailparser (an independent MIME parser), on SQLite and
// PostgreSQL. Licence assigned / provider switched to Microsoft: conference ID, default numbers and a new leader
// PIN (which verifies against its stored hash and is in the database nowhere in clear); conference ID or default
// number changed: the new details and no PIN anywhere in the message; PIN reset: the new PIN; licence removed or
// provider switched away: dial-in is gone. amy reads English, camille French.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { PIN_LENGTH, SECOND_TOLL, TOLL, TOLL_FREE, pinIn, wholeMessage, withNoticeWorld, type NoticeWorld } from './helpers/user-notice-fixture.js';
import type { Arrival } from './helpers/smtp-server.js';

const conferenceIdOf = async (w: NoticeWorld, upn: string) => String((await w.json('Get-CsOnlineDialInConferencingUser', upn)).ConferenceId);

/** The checks every notice passes: one recipient, from the service mailbox, auto-generated, a text and an HTML part. */
function assertNotice(a: Arrival, to: string, subject: string, language: string): void {
  assert.deepEqual(a.envelope.to, [to]);
  assert.equal(a.mail.to && !Array.isArray(a.mail.to) ? a.mail.to.text : '', to);
  assert.equal(a.mail.from?.text, 'mms@contoso.com');
  assert.equal(a.mail.subject, subject);
  assert.equal(a.mail.headers.get('auto-submitted'), 'auto-generated');
  assert.equal(a.mail.headers.get('content-language'), language);
  assert.match(String(a.mail.messageId), /^<notice\.[0-9a-f-]{36}@contoso\.com>$/);
  assert.ok(a.mail.text && typeof a.mail.html === 'string', 'a text and an HTML part');
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: emails to users about their own dial-in settings`, { skip: t.skip }, () => {
    it('assigning the licence emails the conference ID, the default numbers and a new leader PIN, in English and in French; the PIN verifies and is stored nowhere in clear', { timeout: 120_000 }, () =>
      withNoticeWorld(t, async (w) => {
        const lic = await w.json('Set-MmsUserLicense', 'amy@contoso.com', '-AddLicenses', 'AudioConferencing');
        assert.equal('LeaderPin' in lic, false, 'emails are on: the admin is not shown the PIN');
        const amy = await w.nextMail();
        assertNotice(amy, 'amy@contoso.com', 'Your audio conferencing details', 'en');
        const id = await conferenceIdOf(w, 'amy@contoso.com');
        const text = amy.mail.text ?? '';
        assert.match(text, /^Hello Amy Shaw,$/m);
        assert.ok(text.includes(`\nConference ID: ${id}\n`), text);
        assert.ok(text.includes('\n+1 425-555-0100 (Seattle) Toll\n'), text);
        assert.ok(text.includes('\n+1 800-555-0199 (United States) Toll-free\n'), text);
        const pin = pinIn(amy, 'Leader PIN: ');
        assert.equal(pin.length, PIN_LENGTH);
        assert.ok(String(amy.mail.html).includes(`Leader PIN: ${pin}`), 'the HTML part says the same');
        assert.equal(await w.pinVerifies('amy@contoso.com', pin), true, 'the emailed PIN is the stored one');
        const wrong = pin.slice(0, -1) + String((Number(pin.slice(-1)) + 1) % 10);
        assert.equal(await w.pinVerifies('amy@contoso.com', wrong), false, 'another PIN does not verify');

        await w.json('Set-MmsUserLicense', 'camille@contoso.com', '-AddLicenses', 'AudioConferencing');
        const camille = await w.nextMail();
        assertNotice(camille, 'camille@contoso.com', 'Vos informations d’audioconférence', 'fr');
        const fr = camille.mail.text ?? '';
        assert.match(fr, /^Bonjour Camille Dubois,$/m);
        assert.ok(fr.includes(`\nID de conférence\u00a0: ${await conferenceIdOf(w, 'camille@contoso.com')}\n`), fr);
        assert.ok(fr.includes('\n+1 425-555-0100 (Seattle) Payant\n'), fr);
        assert.ok(fr.includes('\n+1 800-555-0199 (United States) Gratuit\n'), fr);
        const frPin = pinIn(camille, 'Code PIN d’organisateur\u00a0: ');
        assert.equal(await w.pinVerifies('camille@contoso.com', frPin), true);
        // Each email holds its own user's data only.
        assert.ok(!wholeMessage(camille).includes('Amy') && !wholeMessage(camille).includes(pin) && !wholeMessage(camille).includes(id));
        assert.ok(!wholeMessage(amy).includes('Camille') && !wholeMessage(amy).includes(frPin));

        // Sent: the PIN is gone from the outbox too; nothing in the database (rows, file, WAL) holds either PIN.
        await w.allSettled();
        const stored = await w.storedBytes();
        for (const p of [pin, frPin]) assert.equal(stored.includes(p), false, `the PIN ${p} is stored in clear`);
        const notices = await w.db.kysely.selectFrom('outbox_messages').select('notice').where('notice', 'is not', null).execute();
        assert.equal(notices.length, 2);
        for (const n of notices) assert.deepEqual([JSON.parse(String(n.notice)).pin, JSON.parse(String(n.notice)).pinRemoved], [undefined, true]);
      }));

    it('a new conference ID or default number is emailed without any PIN; a PIN reset emails the new PIN, which replaces the old', { timeout: 120_000 }, () =>
      withNoticeWorld(t, async (w) => {
        await w.json('Set-MmsUserLicense', 'amy@contoso.com', '-AddLicenses', 'AudioConferencing');
        const pin = pinIn(await w.nextMail(), 'Leader PIN: ');

        await w.json('Set-CsOnlineDialInConferencingUser', 'amy@contoso.com', '-ConferenceId', '4455667');
        const changed = await w.nextMail();
        assertNotice(changed, 'amy@contoso.com', 'Your audio conferencing details have changed', 'en');
        assert.ok((changed.mail.text ?? '').includes('\nConference ID: 4455667\n'), changed.mail.text);
        assert.equal(wholeMessage(changed).includes(pin), false, 'no PIN in the message');
        assert.doesNotMatch(wholeMessage(changed), /Leader PIN/);

        await w.json('Set-CsOnlineDialInConferencingUser', 'amy@contoso.com', '-ServiceNumber', SECOND_TOLL);
        const number = await w.nextMail();
        assertNotice(number, 'amy@contoso.com', 'Your audio conferencing details have changed', 'en');
        assert.ok((number.mail.text ?? '').includes('\n+1 206-555-0100 (Seattle) Toll\n'), number.mail.text);
        assert.ok(!(number.mail.text ?? '').includes('425-555-0100'), 'the old default is not shown');
        assert.equal(wholeMessage(number).includes(pin), false, 'no PIN in the message');
        assert.doesNotMatch(wholeMessage(number), /Leader PIN/);

        await w.json('Set-CsOnlineDialInConferencingUser', 'amy@contoso.com', '-ResetLeaderPin');
        const reset = await w.nextMail();
        assertNotice(reset, 'amy@contoso.com', 'Your new meeting leader PIN', 'en');
        const newPin = pinIn(reset, 'Leader PIN: ');
        assert.equal(await w.pinVerifies('amy@contoso.com', newPin), true, 'the new PIN verifies');
        assert.notEqual(newPin, pin, 'a new PIN');
        assert.equal(await w.pinVerifies('amy@contoso.com', pin), false, 'the old PIN no longer does');
        assert.equal((await w.storedBytes()).includes(newPin), false, 'the new PIN is stored nowhere in clear');

        // French: the same change in camille's language, no PIN.
        await w.json('Set-MmsUserLicense', 'camille@contoso.com', '-AddLicenses', 'AudioConferencing');
        const frPin = pinIn(await w.nextMail(), 'Code PIN d’organisateur\u00a0: ');
        await w.json('Set-CsOnlineDialInConferencingUser', 'camille@contoso.com', '-ConferenceId', '7788990');
        const fr = await w.nextMail();
        assertNotice(fr, 'camille@contoso.com', 'Vos informations d’audioconférence ont changé', 'fr');
        assert.ok((fr.mail.text ?? '').includes('\nID de conférence\u00a0: 7788990\n'), fr.mail.text);
        assert.equal(wholeMessage(fr).includes(frPin), false, 'no PIN in the message');
        assert.doesNotMatch(wholeMessage(fr), /Code PIN/);
        await w.json('Set-CsOnlineDialInConferencingUser', 'camille@contoso.com', '-ServiceNumber', SECOND_TOLL);
        const frNumber = await w.nextMail();
        assertNotice(frNumber, 'camille@contoso.com', 'Vos informations d’audioconférence ont changé', 'fr');
        assert.ok((frNumber.mail.text ?? '').includes('\n+1 206-555-0100 (Seattle) Payant\n'), frNumber.mail.text);
        assert.equal(wholeMessage(frNumber).includes(frPin), false, 'no PIN in the message');
        await w.json('Set-CsOnlineDialInConferencingUser', 'camille@contoso.com', '-ResetLeaderPin');
        const frReset = await w.nextMail();
        assertNotice(frReset, 'camille@contoso.com', 'Votre nouveau code PIN d’organisateur', 'fr');
        const frNew = pinIn(frReset, 'Code PIN d’organisateur\u00a0: ');
        assert.equal(await w.pinVerifies('camille@contoso.com', frNew), true);
        assert.match(frReset.mail.text ?? '', /^Gardez ce code pour vous/m);
      }));

    it('removing the licence or switching to a third-party provider says dial-in is gone; switching back to Microsoft emails a new PIN', { timeout: 120_000 }, () =>
      withNoticeWorld(t, async (w) => {
        await w.json('Set-MmsUserLicense', 'amy@contoso.com', '-AddLicenses', 'AudioConferencing');
        const pin = pinIn(await w.nextMail(), 'Leader PIN: ');
        const id = await conferenceIdOf(w, 'amy@contoso.com');
        await w.json('Set-MmsUserLicense', 'amy@contoso.com', '-RemoveLicenses', 'AudioConferencing');
        const gone = await w.nextMail();
        assertNotice(gone, 'amy@contoso.com', 'Audio conferencing is no longer available in your meetings', 'en');
        assert.match(gone.mail.text ?? '', /your meetings no longer have dial-in numbers or a conference ID/);
        for (const s of [pin, id, TOLL.slice(2), '425-555-0100', TOLL_FREE.slice(2)]) assert.equal(wholeMessage(gone).includes(s), false, `${s} is in the message`);

        await w.json('Set-MmsUserLicense', 'camille@contoso.com', '-AddLicenses', 'AudioConferencing');
        const first = pinIn(await w.nextMail(), 'Code PIN d’organisateur\u00a0: ');
        await w.json('Set-CsUserAcp', 'camille@contoso.com', '-Name', 'Intercall', '-TollNumber', '+16465550100', '-ParticipantPasscode', '5550123');
        const away = await w.nextMail();
        assertNotice(away, 'camille@contoso.com', 'L’audioconférence n’est plus disponible dans vos réunions', 'fr');
        assert.equal(wholeMessage(away).includes(first), false);

        await w.json('Enable-CsOnlineDialInConferencingUser', 'camille@contoso.com', '-ReplaceProvider');
        const back = await w.nextMail();
        assertNotice(back, 'camille@contoso.com', 'Vos informations d’audioconférence', 'fr');
        const second = pinIn(back, 'Code PIN d’organisateur\u00a0: ');
        assert.equal(await w.pinVerifies('camille@contoso.com', second), true);
        assert.ok((back.mail.text ?? '').includes('\n+1 425-555-0100 (Seattle) Payant\n'), back.mail.text);
        assert.equal(wholeMessage(back).includes('5550123'), false, 'the ACP passcode is not repeated');
      }));
  });
}
