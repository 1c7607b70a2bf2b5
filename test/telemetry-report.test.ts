// Get-MmsTelemetryReport (issue 11 §5) on both databases: events go in through the real ingestion endpoint (the
// Fastify app with the tenant's ingestion key), then the report's counts, groups, time window and MinGroupSize
// suppression are checked against what was sent — a group of 4 users hidden, of 5 shown, no hidden group that could
// be recovered by subtracting the visible groups from the report of the whole window, nor one person by subtracting
// two windows, nor one person's rare error code or feature, nor one named user among anonymous devices.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTenant } from '../src/directory/index.js';
import { createApiToken } from '../src/http/api-tokens.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { census, DAY, deviceId, errorReport, NOW, outcomes, telemetryWorld, usage, type TelemetryWorld } from './helpers/telemetry-fixture.js';

type Row = Record<string, any>;
const at = (ms: number) => new Date(ms).toISOString();
const users = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i + 1}@contoso.com`);

/** The census of the default window: OS, language, app, users, when, sign-ins (attempts, failures) each. */
const CENSUS_GROUPS = [
  { os: 'iPhoneiOS', lang: 'EN-US', app: 'iPhoneSkype', ver: '6.1', users: users('ios', 6), time: NOW - DAY, attempts: 3, failures: 1 },
  { os: 'Windows', lang: 'FR-FR', app: 'SkypeDesktop', ver: '16.0', users: users('win', 5), time: NOW - 2 * DAY, attempts: 2, failures: 0 },
  { os: 'Android', lang: 'ES-ES', app: 'Android', ver: '2.0', users: users('and', 4), time: NOW - 2 * DAY, attempts: 1, failures: 1 },
  { os: 'Linux', lang: 'EN-US', app: 'Linux', ver: '1.0', users: users('lin', 3), time: NOW - 2 * DAY, attempts: 1, failures: 0 },
];

for (const t of TEST_DATABASES) {
  describe(`${t.name}: Get-MmsTelemetryReport`, { skip: t.skip }, () => {
    let w: TelemetryWorld;
    const accepted = async (kind: 'census' | 'usage' | 'error', events: unknown[], key?: string) => {
      const r = await w.post(kind, events, key);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(outcomes(r.body), events.map(() => 'Accepted'), JSON.stringify(r.body));
    };
    const report = (...argv: string[]): Promise<Row[]> => w.json('Get-MmsTelemetryReport', ...argv);
    const row = (rows: Row[], group: string) => rows.find((r) => r.Group === group);
    const hidden = (rows: Row[]) => rows.find((r) => r.Hidden === true);

    before(async () => {
      w = await telemetryWorld(t);
      for (const g of CENSUS_GROUPS) {
        await accepted('census', g.users.map((u) => census(u, deviceId(), { OsName: g.os, UserLanguage: g.lang, AppName: g.app, AppVersion: g.ver, Time: at(g.time), SignInAttempts: g.attempts, SignInFailures: g.failures })));
      }
      // Ten days ago: outside the default window of 7 days.
      await accepted('census', users('old', 5).map((u) => census(u, deviceId(), { OsName: 'OldOS', Time: at(NOW - 10 * DAY) })));
      // Another tenant's users are never in Contoso's report.
      await accepted('census', users('fab', 7).map((u) => census(u, deviceId(), { Time: at(NOW - DAY) })), w.keys.Fabrikam);
    });
    after(async () => w?.close());

    it('counts distinct users and devices, sign-in attempts and failures and the failure rate of the last 7 days by default', async () => {
      const rows = await report('-Kind', 'Census');
      assert.deepEqual(rows, [{ Group: 'All', Users: 18, Devices: 18, Events: 18, SignInAttempts: 6 * 3 + 5 * 2 + 4 + 3, SignInFailures: 6 + 4, SignInFailureRate: 28.6, Hidden: false }]);
      const r = await w.mms('Get-MmsTelemetryReport', 'Census');
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /census report of 2026-11-24T00:00:00\.000Z to 2026-12-01T00:00:00\.000Z/);
      // An event of this very moment (no Time: when MMS received it) is in the default window.
      await accepted('usage', [usage()], w.keys.Fabrikam);
      assert.deepEqual(await report('-Kind', 'Usage', '-Tenant', 'Fabrikam'), [{ Group: '(1 group hidden (under 5 devices a day))', Hidden: true, HiddenGroups: 1, Events: null, MinGroupSize: 5 }]);
    });

    it('a group of 4 users is hidden, of 5 shown; the hidden groups are only named by their number and, as they together reach 5 users, their events', async () => {
      const rows = await report('-Kind', 'Census', '-GroupBy', 'OsName');
      assert.deepEqual(rows.map((r) => r.Group), ['iPhoneiOS', 'Windows', '(2 groups hidden (under 5 users a day))']);
      assert.deepEqual(row(rows, 'Windows'), { Group: 'Windows', Users: 5, Devices: 5, Events: 5, SignInAttempts: 10, SignInFailures: 0, SignInFailureRate: 0, Hidden: false });
      assert.deepEqual(hidden(rows), { Group: '(2 groups hidden (under 5 users a day))', Hidden: true, HiddenGroups: 2, Events: 7, MinGroupSize: 5 });
      assert.ok(!JSON.stringify(rows).includes('Android') && !JSON.stringify(rows).includes('Linux'), 'hidden groups are not named');
      const r = await w.mms('Get-MmsTelemetryReport', '-Kind', 'Census', '-GroupBy', 'OsName');
      assert.match(r.err, /2 group\(s\) with fewer than 5 distinct users on a day .* are left out of that day; they hold 7 events/);
    });

    it('hides a day\'s smallest visible group too when its hidden ones alone are under MinGroupSize, so that the whole-window report minus the visible groups gives no small group away', async () => {
      // By language on the 28th: fr-fr 5 users, es-es 4, en-us 3 (Linux); on the 29th en-us 6 (iPhone). Each day is
      // judged alone: the 28th's en-us and es-es are hidden (7 users together), the 29th's en-us shown.
      const rows = await report('-Kind', 'Census', '-GroupBy', 'Language');
      assert.deepEqual(rows.map((r) => [r.Group, r.Users, r.Events]), [['en-us', 6, 6], ['fr-fr', 5, 5], ['(2 groups hidden (under 5 users a day))', undefined, 7]]);
      // What differencing gives: the whole window minus every visible group is 7 users' worth, never 4 or 3.
      const all = (await report('-Kind', 'Census'))[0]!;
      const visible = rows.filter((r) => !r.Hidden);
      assert.equal(all.Events - visible.reduce((s, r) => s + r.Events, 0), 7);
      assert.equal(all.SignInAttempts - visible.reduce((s, r) => s + r.SignInAttempts, 0), 4 + 3);
    });

    it('groups by app and version and by day (UTC, oldest first)', async () => {
      const byApp = await report('-Kind', 'Census', '-GroupBy', 'AppVersion');
      assert.deepEqual(byApp.map((r) => r.Group), ['iPhoneSkype 6.1', 'SkypeDesktop 16.0', '(2 groups hidden (under 5 users a day))']);
      const byDay = await report('-Kind', 'Census', '-GroupBy', 'Day');
      assert.deepEqual(byDay.map((r) => [r.Group, r.Users, r.Events]), [['2026-11-28', 12, 12], ['2026-11-29', 6, 6]]);
    });

    it('keeps app "A B" version "C" apart from app "A" version "B C" (each 5 users; together they would be 10)', async () => {
      const time = Date.UTC(2026, 10, 20, 8);
      for (const [app, ver, who] of [['A B', 'C', 'ab'], ['A', 'B C', 'a']] as const) {
        await accepted('census', users(who, 5).map((u) => census(u, deviceId(), { AppName: app, AppVersion: ver, Time: at(time) })), w.keys.Fabrikam);
      }
      const rows = await report('-Kind', 'Census', '-Tenant', 'Fabrikam', '-GroupBy', 'AppVersion', '-StartTime', at(time), '-EndTime', at(time + 1));
      assert.deepEqual(rows.map((r) => [r.Group, r.Users]), [['A B C', 5], ['A B C', 5]]);
    });

    it('follows the tenant\'s MinGroupSize', async () => {
      assert.equal((await w.mms('Set-MmsTelemetryConfiguration', '-MinGroupSize', '3')).code, 0);
      try {
        const rows = await report('-Kind', 'Census', '-GroupBy', 'OsName');
        assert.deepEqual(rows.map((r) => [r.Group, r.Users]), [['iPhoneiOS', 6], ['Windows', 5], ['Android', 4], ['Linux', 3]]);
      } finally {
        assert.equal((await w.mms('Set-MmsTelemetryConfiguration', '-MinGroupSize', '5')).code, 0);
      }
    });

    it('reports the window asked for, by when the events happened, widened to whole UTC days (the end excluded)', async () => {
      const old = await report('-Kind', 'Census', '-StartTime', at(NOW - 11 * DAY), '-EndTime', at(NOW - 9 * DAY));
      assert.deepEqual(old.map((r) => [r.Group, r.Users]), [['All', 5]]);
      // 10:30 to 11:30 on the 29th: widened to the whole 29th, which holds the iPhone users' events at 12:00.
      const hour = await report('-Kind', 'Census', '-StartTime', at(NOW - DAY - 90 * 60_000), '-EndTime', at(NOW - DAY - 30 * 60_000));
      assert.deepEqual(hour.map((r) => [r.Group, r.Users]), [['All', 6]]);
      assert.deepEqual(await report('-Kind', 'Census', '-StartTime', '2026-11-28T00:00Z', '-EndTime', '2026-11-29T00:00Z'), [{ Group: 'All', Users: 12, Devices: 12, Events: 12, SignInAttempts: 17, SignInFailures: 4, SignInFailureRate: 23.5, Hidden: false }], 'an end at 00:00Z excludes that day');
    });

    it('does not single out one person by subtracting two windows an hour apart, nor by the groups of either', async () => {
      // Ten users at 10:00 on the 26th, then one at 12:30 (fi-fi, 9 sign-in attempts, 7 failures, app version 9.9).
      const day = Date.UTC(2026, 10, 26);
      await accepted('census', users('ten', 10).map((u) => census(u, deviceId(), { OsName: 'Windows', UserLanguage: 'EN-GB', Time: at(day + 10 * 3_600_000), SignInAttempts: 1, SignInFailures: 0 })), w.keys.Fabrikam);
      await accepted('census', [census('lone@fabrikam.com', deviceId(), { OsName: 'Windows', UserLanguage: 'FI-FI', AppVersion: '9.9', Time: at(day + 12.5 * 3_600_000), SignInAttempts: 9, SignInFailures: 7 })], w.keys.Fabrikam);
      const upTo = (hour: number, ...more: string[]) => report('-Kind', 'Census', '-Tenant', 'Fabrikam', '-StartTime', at(day), '-EndTime', at(day + hour * 3_600_000), ...more);
      const [noon, one] = [(await upTo(12))[0]!, (await upTo(13))[0]!];
      assert.deepEqual([one.SignInAttempts - noon.SignInAttempts, one.SignInFailures - noon.SignInFailures, one.Users - noon.Users], [0, 0, 0], 'both windows are the whole day');
      assert.equal(one.SignInAttempts, 10 + 9);
      // Grouped, the lone user's language and app version are hidden, and so is the smallest other group of the day.
      const byLanguage = await upTo(13, '-GroupBy', 'Language');
      assert.ok(!JSON.stringify(byLanguage).includes('fi-fi'), JSON.stringify(byLanguage));
      const byApp = await upTo(13, '-GroupBy', 'AppVersion');
      assert.deepEqual(byApp.map((r) => [r.Group, r.Users, r.Events]), [['(2 groups hidden (under 5 users a day))', undefined, 11]]);
    });

    it('does not count a user twice across a key rotation: 3 users seen in two epochs stay hidden, their event count too', async () => {
      const fab = users('rot', 3).map((u) => ({ u, device: deviceId() }));
      await accepted('census', fab.map((x) => census(x.u, x.device, { OsName: 'Rotated', Time: at(NOW - 3 * DAY) })), w.keys.Fabrikam);
      assert.equal((await w.mms('Set-MmsTelemetryConfiguration', '-Tenant', 'Fabrikam', '-RotateKey')).code, 0);
      await accepted('census', fab.map((x) => census(x.u, x.device, { OsName: 'Rotated', Time: at(NOW - 3 * DAY) })), w.keys.Fabrikam);
      const window = ['-StartTime', at(NOW - 3 * DAY - 3_600_000), '-EndTime', at(NOW - 3 * DAY + 1)];
      assert.deepEqual(await report('-Kind', 'Census', '-Tenant', 'Fabrikam', ...window), [{ Group: '(1 group hidden (under 5 users a day))', Hidden: true, HiddenGroups: 1, Events: null, MinGroupSize: 5 }]);
      // Six pseudonyms, three people: at a MinGroupSize of 3 the group is shown (each epoch counts its own pseudonyms).
      assert.equal((await w.mms('Set-MmsTelemetryConfiguration', '-Tenant', 'Fabrikam', '-MinGroupSize', '3')).code, 0);
      try {
        // Users are the largest epoch's count (3), not both epochs' pseudonyms summed (6), and the report says so.
        assert.deepEqual((await report('-Kind', 'Census', '-Tenant', 'Fabrikam', ...window)).map((r) => [r.Users, r.Devices, r.Events]), [[3, 3, 6]]);
        const r = await w.mms('Get-MmsTelemetryReport', '-Kind', 'Census', '-Tenant', 'Fabrikam', ...window);
        assert.match(r.err, /spans 2 key epochs .*Users and Devices are the largest epoch's count, a lower bound/);
      } finally {
        assert.equal((await w.mms('Set-MmsTelemetryConfiguration', '-Tenant', 'Fabrikam', '-MinGroupSize', '5')).code, 0);
      }
    });

    it('sums usage per app version, counting devices (usage has no user), with features used', async () => {
      const apps = [{ app: 'Teams', n: 6 }, { app: 'SkypeDesktop', n: 5 }, { app: 'Lync', n: 4 }, { app: 'Mac', n: 3 }];
      for (const a of apps) {
        await accepted('usage', Array.from({ length: a.n }, (_, i) => usage(deviceId(), { AppName: a.app, AppVersion: '1.0', CallsMade: 2, MeetingMinutes: 10, StabilityIssues: 1, FeaturesUsed: { 'Get-MmsUser': 2, dashboard: 1, ...(a.app === 'Teams' && i < 5 ? { five: 1 } : {}), ...(a.app === 'Teams' && i < 2 ? { 'rare-x': 1 } : {}) }, Time: at(NOW - DAY) })));
      }
      const rows = await report('-Kind', 'Usage', '-GroupBy', 'AppVersion');
      assert.deepEqual(rows.map((r) => r.Group), ['Teams 1.0', 'SkypeDesktop 1.0', '(2 groups hidden (under 5 devices a day))']);
      assert.deepEqual(row(rows, 'Teams 1.0'), {
        Group: 'Teams 1.0', Devices: 6, Events: 6, CallsMade: 12, ImSent: 72, ImReceived: 30, MeetingJoinAttempts: 30, MeetingJoinSuccesses: 24, CallMinutes: 180,
        MeetingMinutes: 60, StabilityIssues: 6, FeatureUses: 18 + 5 + 2, TopFeatures: ['Get-MmsUser (12)', 'dashboard (6)', 'five (5)'], Hidden: false,
      });
      assert.equal(hidden(rows)!.Events, 7);
      const all = await report('-Kind', 'Usage');
      assert.equal(all[0]!.Devices, 18);
      assert.equal(all[0]!.MeetingJoinSuccesses, 18 * 4);
    });

    it('counts error reports per user and device with the top error codes', async () => {
      const opted = users('err', 5);
      for (const u of opted) assert.equal((await w.mms('Set-MmsUserTelemetry', u, '-ErrorReportingOptIn', '$true')).code, 0);
      await accepted('error', [
        ...opted.map((u) => errorReport(u, deviceId(), { Time: at(NOW - DAY) })),
        errorReport(opted[0], deviceId(), { ErrorCode: '0x80004005', Time: at(NOW - DAY) }),
        errorReport(opted[1], deviceId(), { ErrorCode: '0x80004005', Time: at(NOW - 2 * DAY) }),
      ]);
      // The 28th holds one user's report: hidden, and left out of the window's figures. 0x80004005 was sent by one
      // user on the 29th: not named (an error code is free text that could tell who).
      const hiddenDay = { Group: '(1 group hidden (under 5 users a day))', Hidden: true, HiddenGroups: 1, Events: null, MinGroupSize: 5 };
      assert.deepEqual(await report('-Kind', 'Error'), [{ Group: 'All', Users: 5, Devices: 6, Events: 6, TopErrorCodes: ['0x8007 (5)'], Hidden: false }, hiddenDay]);
      const byDay = await report('-Kind', 'Error', '-GroupBy', 'Day');
      assert.deepEqual(byDay, [{ Group: '2026-11-29', Users: 5, Devices: 6, Events: 6, TopErrorCodes: ['0x8007 (5)'], Hidden: false }, hiddenDay]);
      // Once five users sent it, it is named.
      await accepted('error', opted.slice(1).map((u) => errorReport(u, deviceId(), { ErrorCode: '0x80004005', Time: at(NOW - DAY) })));
      assert.deepEqual((await report('-Kind', 'Error'))[0]!.TopErrorCodes, ['0x80004005 (5)', '0x8007 (5)']);
    });

    it('counts anonymous error reports by device, but does not let one named user hide among them', async () => {
      const pool = 'pool01.contoso.com';
      assert.equal((await w.mms('Set-CsWebServiceConfiguration', '-Identity', `Service:WebServer:${pool}`, '-MeetingUxEnableTelemetry', '$true')).code, 0);
      const anonymous = (time: number) => Array.from({ length: 6 }, () => errorReport(undefined, deviceId(), { AppName: 'JoinLauncher', Pool: pool, ErrorCode: 'join-1', Time: at(time) }));
      const dayOf = (time: number) => ['-Kind', 'Error', '-StartTime', at(time), '-EndTime', at(time + 1)];
      // Six anonymous devices on the 25th: a group of 6, its code named.
      await accepted('error', anonymous(NOW - 5 * DAY));
      assert.deepEqual(await report(...dayOf(NOW - 5 * DAY)), [{ Group: 'All', Users: 0, Devices: 6, Events: 6, TopErrorCodes: ['join-1 (6)'], Hidden: false }]);
      // Six anonymous devices and one named user on the 24th: the user would be the only one named, so it is hidden.
      const named = 'named@contoso.com';
      assert.equal((await w.mms('Set-MmsUserTelemetry', named, '-ErrorReportingOptIn', '$true')).code, 0);
      await accepted('error', [...anonymous(NOW - 6 * DAY), errorReport(named, deviceId(), { ErrorCode: '0xDEAD', Time: at(NOW - 6 * DAY) })]);
      const rows = await report(...dayOf(NOW - 6 * DAY));
      assert.deepEqual(rows.map((r) => r.Group), ['(1 group hidden (under 5 users a day))']);
    });

    it('refuses a wrong -Kind, -GroupBy or time with exit code 2 and one line that says the fix', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['-Kind', 'Censu'], /-Kind expects Census, Usage or Error/],
        [['-Kind', 'Census', '-GroupBy', 'Week'], /-GroupBy expects AppVersion, OsName, Language or Day/],
        [['-Kind', 'Usage', '-GroupBy', 'Language'], /-GroupBy Language needs -Kind Census: usage events carry no OS name or language; use -GroupBy AppVersion or Day/],
        [['-Kind', 'Census', '-StartTime', 'yesterday'], /-StartTime expects a date such as/],
        [['-Kind', 'Census', '-StartTime', '2026-11-20', '-EndTime', '2026-11-10'], /swap them/],
        [[], /-Kind/],
      ];
      for (const [argv, pattern] of cases) {
        const r = await w.mms('Get-MmsTelemetryReport', ...argv);
        assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
        assert.equal(r.err.trim().split('\n').length, 1, r.err);
        assert.match(r.err, pattern);
      }
      const inOneHour = await w.mms('Get-MmsTelemetryReport', '-Kind', 'Census', '-StartTime', '2026-11-20T10:10Z', '-EndTime', '2026-11-20T10:20Z');
      assert.equal(inOneHour.code, 0, `a window inside one day is widened to it: ${inOneHour.err}`);
    });

    it('answers over REST for a ReadOnly token, hidden row and all, refuses a bad kind with 400 and another tenant with 404', async () => {
      const { token } = await createApiToken(w.fresh.db, { name: 'reader', role: 'ReadOnly', tenant: await resolveTenant(w.fresh.db, 'Contoso'), lifetimeMs: null, actor: 'tester', now: NOW });
      const get = (q: string) => w.app.inject({ method: 'GET', url: `/api/v1/telemetry-report?${q}`, headers: { authorization: `Bearer ${token}` } });
      const r = await get('Kind=Census&GroupBy=OsName');
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json(), await report('-Kind', 'Census', '-GroupBy', 'OsName'));
      const bad = await get('Kind=Census&GroupBy=Week');
      assert.equal(bad.statusCode, 400, bad.body);
      // A Contoso token of either role may not read Fabrikam's report: the tenant it names is not one it sees.
      for (const role of ['ReadOnly', 'TenantAdmin'] as const) {
        const other = await createApiToken(w.fresh.db, { name: `contoso-${role}`, role, tenant: await resolveTenant(w.fresh.db, 'Contoso'), lifetimeMs: null, actor: 'tester', now: NOW });
        const r = await w.app.inject({ method: 'GET', url: '/api/v1/telemetry-report?Kind=Census&Tenant=Fabrikam', headers: { authorization: `Bearer ${other.token}` } });
        assert.equal(r.statusCode, 404, `${role}: ${r.body}`);
      }
    });
  });
}
