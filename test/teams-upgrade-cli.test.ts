// The Teams conversion triggers (issue 12 §2) through the real `mms` entry and the REST API: what each cmdlet
// answers and queues, Get-CsMeetingMigrationStatus -MigrationType, the tenant's meeting-type settings, and one
// clear line with exit code 2 (HTTP 400) for every bad value.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { loadConfig } from '../src/config.js';
import { resolveTenant } from '../src/directory/index.js';
import { createApiToken } from '../src/http/api-tokens.js';
import { buildApi } from '../src/http/app.js';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';

const NOW = Date.UTC(2026, 10, 30, 12);

for (const t of TEST_DATABASES) {
  describe(`${t.name}: Teams conversion commands`, { skip: t.skip }, () => {
    let fresh: Awaited<ReturnType<typeof t.fresh>>;
    let app: FastifyInstance;
    let token = '';
    const mms = (...argv: string[]) => runMms({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'tester' }, () => NOW, argv);
    const json = async (...argv: string[]) => {
      const r = await mms(...argv, '--json');
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      return JSON.parse(r.out) as Record<string, unknown> & Array<Record<string, unknown>>;
    };
    /** A usage mistake: exit 2, nothing on stdout, one `mms: …` line on stderr matching `re`. */
    const refused = async (re: RegExp, ...argv: string[]) => {
      const r = await mms(...argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: expected exit 2, got ${r.code}: ${r.err}`);
      assert.equal(r.out, '');
      assert.equal(r.err.split('\n').filter(Boolean).length, 1, r.err);
      assert.match(r.err, re);
    };
    const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
      app.inject({ method, url, payload: payload as never, headers: { authorization: `Bearer ${token}` } });

    before(async () => {
      fresh = await t.fresh();
      for (const argv of [
        ['New-MmsTenant', 'Contoso', '-Domain', 'contoso.com'],
        ['New-MmsBridge', 'Contoso US', '-TollNumber', '+12065550100', '-Default'],
        ['New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Amy'],
        ['New-MmsUser', 'ben@contoso.com', '-DisplayName', 'Ben'],
        ['New-MmsUser', 'cara@contoso.com', '-DisplayName', 'Cara', '-HostedOn', 'OnPremises'],
        ['New-MmsUser', 'dan@contoso.com', '-DisplayName', 'Dan'],
      ]) {
        const r = await mms(...argv);
        assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      }
      token = (await createApiToken(fresh.db, { name: 'admin', role: 'TenantAdmin', tenant: await resolveTenant(fresh.db, 'Contoso'), lifetimeMs: null, actor: 'tester', now: NOW })).token;
      app = await buildApi({ db: fresh.db, config: loadConfig({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0' }), cmdlets: CMDLETS, now: () => NOW });
    });
    after(async () => {
      await app?.close();
      await fresh?.drop();
    });

    it('Start-CsExMeetingMigration -SourceMeetingType SfB -TargetMeetingType Teams queues SfbToTeams; the defaults queue ToSameType; -MigrationType filters the status', async () => {
      const [sfb] = await json('Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com', '-SourceMeetingType', 'sfb', '-TargetMeetingType', 'teams');
      assert.equal(sfb?.MigrationType, 'SfbToTeams');
      const [plain] = await json('Start-CsExMeetingMigration', '-Identity', 'ben@contoso.com');
      assert.equal(plain?.MigrationType, 'ToSameType');
      const converted = await json('Get-CsMeetingMigrationStatus', '-MigrationType', 'SfbToTeams');
      assert.deepEqual(converted.map((r) => [r.UserPrincipalName, r.MigrationType]), [['amy@contoso.com', 'SfbToTeams']]);
      const same = await json('Get-CsMeetingMigrationStatus', '-MigrationType', 'ToSameType');
      assert.deepEqual(same.map((r) => r.UserPrincipalName), ['ben@contoso.com']);
      // A second start merges into amy's Pending request: Teams meetings too now (AllToTeams).
      const [merged] = await json('Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com', '-SourceMeetingType', 'Teams');
      assert.equal(merged?.Status, 'Queued (merged)');
      assert.equal(merged?.MigrationType, 'AllToTeams');
      assert.equal(merged?.CorrelationId, sfb?.CorrelationId);
    });

    it('bad meeting types and filters are one line and exit 2', async () => {
      await refused(/^mms: -SourceMeetingType expects All, SfB or Teams, not "Skype"/, 'Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com', '-SourceMeetingType', 'Skype');
      await refused(/^mms: -TargetMeetingType expects Current or Teams, not "SfB"/, 'Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com', '-TargetMeetingType', 'SfB');
      await refused(/^mms: -MigrationType expects .*SfbToTeams.*, not "SkypeToTeams"/, 'Get-CsMeetingMigrationStatus', '-MigrationType', 'SkypeToTeams');
      await refused(/^mms: -SummaryOnly counts each user by their latest request of any type; it does not take -MigrationType/, 'Get-CsMeetingMigrationStatus', '-SummaryOnly', '-MigrationType', 'SfbToTeams');
      await refused(/^mms: -PolicyName expects .*UpgradeToTeams.*, not "TeamsOnly"/, 'Grant-CsTeamsUpgradePolicy', '-Identity', 'dan@contoso.com', '-PolicyName', 'TeamsOnly');
      await refused(/^mms: say whom the policy is for: -Identity <user>/, 'Grant-CsTeamsUpgradePolicy', '-PolicyName', 'UpgradeToTeams');
      await refused(/^mms: -MigrateMeetingsToTeams \$true needs a policy whose mode schedules Teams meetings/, 'Grant-CsTeamsUpgradePolicy', '-Identity', 'dan@contoso.com', '-PolicyName', 'SfBOnly', '-MigrateMeetingsToTeams', '$true');
      await refused(/^mms: -MoveToTeams moves a user online and makes them TeamsOnly: use it with -Target Online/, 'Move-CsUser', '-Identity', 'amy@contoso.com', '-Target', 'OnPremises', '-MoveToTeams');
      await refused(/^mms: -MeetingMigrationTargetMeetingTypes expects Current or Teams, not "Skype"/, 'Set-CsTenantMigrationConfiguration', '-MeetingMigrationTargetMeetingTypes', 'Skype');
      await refused(/^mms: nothing to change: give -MeetingMigrationEnabled/, 'Set-CsTenantMigrationConfiguration');
      const audit = await json('Get-MmsAuditLog', '-Identity', 'dan@contoso.com');
      assert.deepEqual(audit.map((a) => a.Cmdlet), ['New-MmsUser'], 'a refused command writes nothing');
    });

    it('Grant-CsTeamsUpgradePolicy answers with the request it queued; Get-CsOnlineUser and Get-CsTeamsUpgradePolicy show the policies', async () => {
      const g = await json('Grant-CsTeamsUpgradePolicy', '-Identity', 'dan@contoso.com', '-PolicyName', 'SfBWithTeamsCollabAndMeetings');
      assert.equal(g.PolicyName, 'SfBWithTeamsCollabAndMeetings');
      assert.equal(g.MeetingMigration, 'Queued');
      assert.equal(g.MigrationType, 'SfbToTeams');
      const [status] = await json('Get-CsMeetingMigrationStatus', '-Identity', 'dan@contoso.com');
      assert.equal(status?.CorrelationId, g.CorrelationId);
      assert.equal(status?.MigrationType, 'SfbToTeams');
      const dan = await json('Get-CsOnlineUser', '-Identity', 'dan@contoso.com');
      assert.equal(dan.TeamsUpgradePolicy, 'SfBWithTeamsCollabAndMeetings');
      assert.equal(dan.TeamsUpgradeEffectiveMode, 'SfBWithTeamsCollabAndMeetings');
      const global = await json('Get-CsTeamsUpgradePolicy', '-Identity', 'Global');
      assert.equal(global.Mode, 'Islands');
      assert.equal((await json('Get-CsTeamsUpgradePolicy', '-Identity', 'Tag:UpgradeToTeams')).Mode, 'TeamsOnly');
    });

    it('-Global over REST queues the inheriting users the rules allow (not cara, homed on-premises; not dan, who has his own) and says how many on stderr', async () => {
      const cli = await mms('Grant-CsTeamsUpgradePolicy', '-PolicyName', 'UpgradeToTeams', '-Global', '-MigrateMeetingsToTeams', '$false');
      assert.equal(cli.code, 0, cli.err);
      assert.equal(cli.err, 'mms: the tenant\'s TeamsUpgradePolicy is now UpgradeToTeams: 0 user(s) queued for conversion to Teams\n');
      const back = await mms('Grant-CsTeamsUpgradePolicy', '-PolicyName', 'Islands', '-Global');
      assert.equal(back.code, 0, back.err);
      const before = (await json('Get-CsMeetingMigrationStatus')).length;
      const r = await call('POST', '/api/v1/teams-upgrade-policy/grant', { PolicyName: 'UpgradeToTeams', Global: true });
      assert.equal(r.statusCode, 200, r.body);
      const rows = r.json() as Array<Record<string, unknown>>;
      assert.deepEqual(rows.map((x) => [x.UserPrincipalName, x.MeetingMigration, x.MigrationType]), [
        ['amy@contoso.com', 'Queued (merged)', 'SfbToTeams'],
        ['ben@contoso.com', 'Queued (merged)', 'SfbToTeams'],
        ['cara@contoso.com', 'None', ''],
      ]);
      const all = await json('Get-CsMeetingMigrationStatus');
      assert.equal(all.length, before, 'merged into the Pending requests, none added');
      assert.deepEqual(all.filter((x) => x.UserPrincipalName === 'ben@contoso.com').map((x) => x.MigrationType), ['AllToTeams']);
      assert.equal((await json('Get-CsTeamsUpgradePolicy', '-Identity', 'Global')).Mode, 'TeamsOnly');
      assert.equal((await json('Get-CsOnlineUser', '-Identity', 'amy@contoso.com')).TeamsUpgradeEffectiveMode, 'TeamsOnly');
    });

    it('the REST route of Start-CsExMeetingMigration takes the meeting types and refuses a bad one with 400; OpenAPI lists their values', async () => {
      const ok = await call('POST', '/api/v1/migrations', { Identity: ['dan@contoso.com'], SourceMeetingType: 'SfB', TargetMeetingType: 'Teams' });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal((ok.json() as Array<Record<string, unknown>>)[0]?.MigrationType, 'SfbToTeams');
      const bad = await call('POST', '/api/v1/migrations', { Identity: ['dan@contoso.com'], TargetMeetingType: 'Skype' });
      assert.equal(bad.statusCode, 400);
      assert.doesNotMatch(String(bad.json().message), /\n/);
      const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, { anyOf?: Array<{ enum: string[] }> }> } }> } }>> };
      const body = doc.paths['/api/v1/migrations']?.post?.requestBody?.content['application/json']?.schema.properties;
      assert.deepEqual(body?.SourceMeetingType?.anyOf?.flatMap((x) => x.enum), ['All', 'SfB', 'Teams']);
      assert.deepEqual(body?.TargetMeetingType?.anyOf?.flatMap((x) => x.enum), ['Current', 'Teams']);
      const cfg = await call('PATCH', '/api/v1/migration-configuration', { MeetingMigrationTargetMeetingTypes: 'Current' });
      assert.equal(cfg.statusCode, 200, cfg.body);
      assert.deepEqual(await json('Get-CsTenantMigrationConfiguration'), { Identity: 'Global', MeetingMigrationEnabled: true, MeetingMigrationSourceMeetingTypes: 'All', MeetingMigrationTargetMeetingTypes: 'Current' });
    });
  });
}
