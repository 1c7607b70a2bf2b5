// Time zones as real calendars write them (issue 6 §4), through the real engine on both databases. The clock
// stands at 2025-03-03 09:01 UTC, which is 01:01 in Seattle: a meeting at 08:00 Seattle time is later today.
// Read as UTC (as MMS did), its 08:00–09:00 would be over, and the meeting skipped for good.
// RFC 5545 §3.2.19 (TZID refers to the object's VTIMEZONE), §3.3.5 (floating time), CLDR windowsZones.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { TEST_DATABASES } from './helpers/databases.js';
import { march, withMigrationFixture, type HistoryRow, type MigrationFixture } from './helpers/migration-fixture.js';
import { changeTenant, setUserTimeZone } from '../src/directory/index.js';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { runCli } from '../src/cli/run-cli.js';

/** The object with its DTSTART and DTEND lines replaced (the add-in's block stays as built). */
function withTimes(ics: string, dtstart: string, dtend: string): string {
  const out = ics.replace(/^DTSTART[;:].*\r\n/m, `${dtstart}\r\n`).replace(/^DTEND[;:].*\r\n/m, `${dtend}\r\n`);
  assert.ok(out.includes(`${dtstart}\r\n`) && out.includes(`${dtend}\r\n`), 'fixture: DTSTART/DTEND replaced');
  return out;
}

/** An add-in meeting of amy's (stale block after retarget) imported into her mailbox (and others') with the given times. */
async function meeting(fx: MigrationFixture, uid: string, dtstart: string, dtend: string, mailboxes = ['amy']): Promise<void> {
  const ics = await fx.addInIcs({ uid, subject: uid, start: march(3, 8), attendees: ['ben'] });
  await fx.importInto(mailboxes, withTimes(ics, dtstart, dtend));
}

function row(rows: readonly HistoryRow[], uid: string): HistoryRow {
  const hits = rows.filter((r) => r.Uid === uid);
  assert.equal(hits.length, 1, `one ledger row for ${uid}: ${JSON.stringify(rows)}`);
  return hits[0] as HistoryRow;
}

async function migrateAmy(fx: MigrationFixture): Promise<HistoryRow[]> {
  await fx.retarget();
  const request = await fx.migrate();
  return fx.history(request.correlationId);
}

function sink() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, read: () => text };
}

async function mms(url: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const env = { MMS_DATABASE_URL: url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'tester' };
  const code = await runCli(argv, { stdout: out.stream, stderr: err.stream, env, isTty: false, now: () => march(3, 9) }, CMDLETS);
  return { code, out: out.read(), err: err.read() };
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: time zones as Outlook and Exchange write them`, { skip: t.skip }, () => {
    it('a meeting later today in a Windows zone without VTIMEZONE is migrated, not skipped as past', () =>
      withMigrationFixture(t, async (fx) => {
        await meeting(fx, 'seattle@contoso.com', 'DTSTART;TZID=Pacific Standard Time:20250303T080000', 'DTEND;TZID=Pacific Standard Time:20250303T090000');
        const stored = await fx.get('amy', 'seattle@contoso.com');
        assert.equal(stored.firstStart, Date.UTC(2025, 2, 3, 16), 'read as America/Los_Angeles (PST, UTC-8)');
        assert.equal(stored.lastEnd, Date.UTC(2025, 2, 3, 17));
        assert.deepEqual(stored.unknownZones, []);
        const r = row(await migrateAmy(fx), 'seattle@contoso.com');
        assert.equal(r.Action, 'Updated', r.Reason);
        assert.equal(r.Reason, 'BlockReplaced');
      }));

    it('a meeting in an unknown zone near the cut is migrated, with the widened cut in its reason', () =>
      withMigrationFixture(t, async (fx) => {
        // Read as UTC it ended at 06:00, three hours ago; in UTC-8 it would not have begun yet.
        await meeting(fx, 'unknown-near@contoso.com', 'DTSTART;TZID=Mars Standard Time:20250303T050000', 'DTEND;TZID=Mars Standard Time:20250303T060000');
        // Ended 42 hours ago read as UTC: past whatever the zone (real offsets run from UTC-12 to UTC+14).
        await meeting(fx, 'unknown-far@contoso.com', 'DTSTART;TZID=Mars Standard Time:20250301T140000', 'DTEND;TZID=Mars Standard Time:20250301T150000');
        assert.deepEqual((await fx.get('amy', 'unknown-near@contoso.com')).unknownZones, ['Mars Standard Time']);
        const history = await migrateAmy(fx);
        const near = row(history, 'unknown-near@contoso.com');
        assert.equal(near.Action, 'Updated', near.Reason);
        assert.equal(near.Reason, 'BlockReplaced; UnknownTimeZone: time zone "Mars Standard Time" is unknown (times read as UTC); the past/future cut was widened by 14 hours and the meeting counted as future');
        const far = row(history, 'unknown-far@contoso.com');
        assert.equal(far.Action, 'Skipped');
        assert.equal(far.Reason, 'PastMeeting: the meeting is over (no occurrence ends after now); its time zone "Mars Standard Time" is unknown, so the cut was widened by 14 hours and it ended before that too');
      }));

    it('floating times are read in the organizer\'s zone: her own, else the tenant\'s, and stored times follow a change', () =>
      withMigrationFixture(t, async (fx) => {
        // Floating 08:00–09:00 on March 3 in the default zone (UTC) is over at 09:01.
        await meeting(fx, 'floating@contoso.com', 'DTSTART:20250303T080000', 'DTEND:20250303T090000', ['amy', 'ben']);
        const before = await fx.get('amy', 'floating@contoso.com');
        assert.equal(before.lastEnd, Date.UTC(2025, 2, 3, 9));
        assert.equal(before.floatingZone, 'UTC');
        // The tenant moves to Seattle time: amy has no zone of her own, so her stored floating meeting moves too.
        const tenant = await changeTenant(fx.ctx, fx.tenant.id, 'Set-CsOnlineDialInConferencingTenantSettings', { settings: { timeZone: 'Pacific Standard Time' } });
        assert.equal(tenant.settings.timeZone, 'America/Los_Angeles', 'a Windows name is stored as IANA');
        const seattle = await fx.get('amy', 'floating@contoso.com');
        assert.equal(seattle.lastEnd, Date.UTC(2025, 2, 3, 17));
        assert.equal(seattle.floatingZone, 'America/Los_Angeles');
        assert.equal(seattle.version, before.version, 'the text did not change, only what its times mean');
        // ben's copy is organized by amy: it is read in amy's zone as well.
        assert.equal((await fx.get('ben', 'floating@contoso.com')).lastEnd, Date.UTC(2025, 2, 3, 17));
        // amy's own zone wins over the tenant's: 08:00 in Tokyo was 23:00 UTC the day before.
        const outcome = await setUserTimeZone(fx.ctx, fx.tenant.id, fx.upn('amy'), 'asia/tokyo');
        assert.equal(outcome.user.timeZone, 'Asia/Tokyo');
        assert.match(outcome.decision.reason, /derived again/);
        assert.equal((await fx.get('amy', 'floating@contoso.com')).lastEnd, Date.UTC(2025, 2, 3, 0));
        let history = await migrateAmy(fx);
        assert.equal(row(history, 'floating@contoso.com').Action, 'Skipped');
        assert.match(row(history, 'floating@contoso.com').Reason, /^PastMeeting: the meeting is over \(no occurrence ends after now\)$/);
        // Back in Seattle, the same meeting is later today and is migrated.
        await setUserTimeZone(fx.ctx, fx.tenant.id, fx.upn('amy'), 'America/Los_Angeles');
        assert.equal((await fx.get('amy', 'floating@contoso.com')).lastEnd, Date.UTC(2025, 2, 3, 17));
        const request = await fx.migrate();
        history = await fx.history(request.correlationId);
        assert.equal(row(history, 'floating@contoso.com').Action, 'Updated', row(history, 'floating@contoso.com').Reason);
      }));

    it('a meeting stored before time zones were resolved is read again before it is called past', () =>
      withMigrationFixture(t, async (fx) => {
        await meeting(fx, 'legacy@contoso.com', 'DTSTART;TZID=Pacific Standard Time:20250303T080000', 'DTEND;TZID=Pacific Standard Time:20250303T090000');
        // What schema 002 stored: the Windows zone read as UTC, and no zone facts.
        await fx.db.kysely.updateTable('calendar_objects')
          .set({ first_start: Date.UTC(2025, 2, 3, 8), last_end: Date.UTC(2025, 2, 3, 9), zones_derived: 0, floating_zone: null, unknown_zones: '[]' })
          .where('uid', '=', 'legacy@contoso.com').execute();
        const r = row(await migrateAmy(fx), 'legacy@contoso.com');
        assert.equal(r.Action, 'Updated', r.Reason);
      }));

    it('-TimeZone takes IANA and Windows names on New-MmsTenant, New-MmsUser and Set-CsUser, and refuses others with exit code 2', async () => {
      const { db, url, drop } = await t.fresh();
      try {
        const tenant = await mms(url, 'New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com', '-TimeZone', 'W. Europe Standard Time', '--json');
        assert.equal(tenant.code, 0, tenant.err);
        assert.equal(JSON.parse(tenant.out).TimeZone, 'Europe/Berlin');
        const inherited = await mms(url, 'New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Amy Shaw', '--json');
        assert.equal(inherited.code, 0, inherited.err);
        assert.equal(JSON.parse(inherited.out).TimeZone, 'Europe/Berlin', 'the tenant\'s zone by default');
        const own = await mms(url, 'New-MmsUser', 'ben@contoso.com', '-DisplayName', 'Ben', '-TimeZone', 'Pacific Standard Time', '--json');
        assert.equal(own.code, 0, own.err);
        assert.equal(JSON.parse(own.out).TimeZone, 'America/Los_Angeles');
        const set = await mms(url, 'Set-CsUser', '-Identity', 'amy@contoso.com', '-TimeZone', 'america/new_york', '--json');
        assert.equal(set.code, 0, set.err);
        assert.equal(JSON.parse(set.out).TimeZone, 'America/New_York');
        const settings = await mms(url, 'Set-CsOnlineDialInConferencingTenantSettings', '-TimeZone', 'Tokyo Standard Time', '--json');
        assert.equal(settings.code, 0, settings.err);
        assert.equal(JSON.parse(settings.out).TimeZone, 'Asia/Tokyo');
        assert.equal(JSON.parse((await mms(url, 'Get-CsOnlineDialInConferencingTenantSettings', '--json')).out).TimeZone, 'Asia/Tokyo');

        const refused = [
          ['New-MmsTenant', '-Name', 'Fabrikam', '-Domain', 'fabrikam.com', '-TimeZone', 'Mars/Olympus_Mons'],
          ['New-MmsUser', 'cara@contoso.com', '-DisplayName', 'Cara', '-TimeZone', 'Pacific Time'],
          ['Set-CsUser', '-Identity', 'amy@contoso.com', '-TimeZone', 'PST-ish'],
          ['Set-CsUser', '-Identity', 'amy@contoso.com', '-SipAddress', 'sip:amy.shaw@contoso.com', '-TimeZone', 'nowhere'],
          ['Set-CsOnlineDialInConferencingTenantSettings', '-TimeZone', 'UTC+25'],
        ];
        for (const argv of refused) {
          const r = await mms(url, ...argv);
          const value = argv[argv.length - 1] as string;
          assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
          assert.equal(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
          assert.ok(r.err.includes(`TimeZone '${value}' is not a time zone MMS knows: give an IANA name such as America/Los_Angeles or a Windows name such as "Pacific Standard Time"`), r.err);
        }
        const nothing = await mms(url, 'Set-CsUser', '-Identity', 'amy@contoso.com');
        assert.equal(nothing.code, 2, nothing.err);
        // The refused Set-CsUser changed nothing, not even the SIP address given with the bad zone.
        const amy = await db.kysely.selectFrom('users').select(['sip_address', 'time_zone']).where('upn', '=', 'amy@contoso.com').executeTakeFirstOrThrow();
        assert.deepEqual(amy, { sip_address: 'sip:amy@contoso.com', time_zone: 'America/New_York' });
        assert.equal((await mms(url, 'New-MmsTenant', '-Name', 'Fabrikam', '-Domain', 'fabrikam.com', '--json')).code, 0, 'the refused tenant was not created');
      } finally {
        await drop();
      }
    });
  });
}
