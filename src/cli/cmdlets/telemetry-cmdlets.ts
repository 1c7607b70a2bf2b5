// Client telemetry switches (issue 11 §3): the tenant's (Get-/Set-MmsTelemetryConfiguration), a pool's
// (Get-/Set-CsWebServiceConfiguration -MeetingUxEnableTelemetry, the reference cmdlet that carries it), a user's
// (Get-/Set-MmsUserTelemetry -ErrorReportingOptIn) and the tenant's ingestion key (New-MmsTelemetryIngestionKey).
import { resolveTenant } from '../../directory/index.js';
import { MmsError } from '../../domain/errors.js';
import { sqlitePath } from '../../store/index.js';
import {
  getTelemetryConfiguration, getUserTelemetry, getWebServiceConfigurations, MIN_GROUP_SIZE_RANGE, newIngestionKey, Pseudonyms, RETENTION_DAYS_RANGE,
  setTelemetryConfiguration, setUserTelemetry, setWebServiceConfiguration, telemetryKeyProblem, type TelemetryConfiguration,
} from '../../telemetry/index.js';
import type { Cmdlet, CmdletContext, CmdletResult } from '../cmdlet.js';
import { withNotices } from '../notice.js';
import { bool, num, req, str } from './shared.js';

const AREA = 'Client telemetry';

/** The pseudonyms of this database (MMS_TELEMETRY_KEY, or SQLite's key file beside the database). */
export function pseudonymsFor(ctx: Pick<CmdletContext, 'config' | 'db'>): Pseudonyms {
  return new Pseudonyms({ telemetryKey: ctx.config.telemetryKey, dialect: ctx.db.dialect, sqliteFile: ctx.db.dialect === 'sqlite' ? sqlitePath(ctx.config.databaseUrl) : undefined });
}

/** The pseudonyms, refused when the key is not the one the stored opt-ins were made with (they would be orphaned). */
async function checkedPseudonymsFor(ctx: Pick<CmdletContext, 'config' | 'db' | 'now'>): Promise<Pseudonyms> {
  const p = pseudonymsFor(ctx);
  const problem = await telemetryKeyProblem(ctx.db, p, ctx.now());
  if (problem) throw new MmsError('Config', problem);
  return p;
}

const change = (ctx: CmdletContext) => ({ db: ctx.db, actor: ctx.actor, now: ctx.now });

function configurationView(tenant: string, c: TelemetryConfiguration): Record<string, unknown> {
  return {
    Identity: tenant,
    DisableAutomaticSendTracing: c.disableAutomaticSendTracing,
    KeepErrorReportIdentifiers: c.keepErrorReportIdentifiers,
    RetentionDays: c.retentionDays,
    ErrorReportRetentionDays: c.errorReportRetentionDays,
    MinGroupSize: c.minGroupSize,
    KeyEpoch: c.keyEpoch,
    IngestionKeyCreatedAt: c.ingestionKeyCreatedAt ?? '',
  };
}

const noChange = (result: CmdletResult, why: string | undefined): CmdletResult => (why === undefined ? result : withNotices(result, `no change: ${why}`));

export const TELEMETRY_CMDLETS: Cmdlet[] = [
  {
    name: 'Get-MmsTelemetryConfiguration',
    area: AREA,
    synopsis: 'Shows the tenant\'s client telemetry switches, retention, pseudonym epoch and when its ingestion key was made.',
    params: [],
    examples: ['npx mms Get-MmsTelemetryConfiguration', 'npx mms Get-MmsTelemetryConfiguration -Tenant Contoso --json'],
    async run(ctx) {
      const tenant = await resolveTenant(ctx.db, ctx.tenant);
      return { kind: 'object', value: configurationView(tenant.name, await getTelemetryConfiguration(ctx.db, tenant.id)) };
    },
  },
  {
    name: 'Set-MmsTelemetryConfiguration',
    area: AREA,
    synopsis: 'Changes the tenant\'s client telemetry switches and retention, or starts a new pseudonym epoch (-RotateKey).',
    params: [
      { name: 'DisableAutomaticSendTracing', type: 'bool', help: 'true: no usage data and no error reports from the tenant\'s clients (census is always collected). Default false.' },
      { name: 'KeepErrorReportIdentifiers', type: 'bool', help: 'true: error reports keep the SIP URI and the whole IP address, as the reference allows. Default false: SIP URI keyed-hashed, IP truncated to /24 or /48.' },
      { name: 'RetentionDays', type: 'int', help: `Days census and usage data are kept (${RETENTION_DAYS_RANGE.min} to ${RETENTION_DAYS_RANGE.max}; default 90).` },
      { name: 'ErrorReportRetentionDays', type: 'int', help: `Days error reports are kept (${RETENTION_DAYS_RANGE.min} to ${RETENTION_DAYS_RANGE.max}; default 30).` },
      { name: 'MinGroupSize', type: 'int', help: `Report groups with fewer distinct users are not shown (${MIN_GROUP_SIZE_RANGE.min} to ${MIN_GROUP_SIZE_RANGE.max}; default 5).` },
      { name: 'RotateKey', type: 'switch', help: 'Start a new pseudonym epoch: users and devices get new pseudonyms from now on; stored data keeps the epoch it was made in.' },
    ],
    examples: [
      'npx mms Set-MmsTelemetryConfiguration -DisableAutomaticSendTracing true',
      'npx mms Set-MmsTelemetryConfiguration -RetentionDays 60 -ErrorReportRetentionDays 14',
      'npx mms Set-MmsTelemetryConfiguration -RotateKey',
    ],
    async run(ctx, a) {
      const tenant = await resolveTenant(ctx.db, ctx.tenant);
      const r = await setTelemetryConfiguration(change(ctx), tenant, {
        disableAutomaticSendTracing: bool(a, 'DisableAutomaticSendTracing'), keepErrorReportIdentifiers: bool(a, 'KeepErrorReportIdentifiers'),
        retentionDays: num(a, 'RetentionDays'), errorReportRetentionDays: num(a, 'ErrorReportRetentionDays'), minGroupSize: num(a, 'MinGroupSize'), rotateKey: bool(a, 'RotateKey'),
      });
      return noChange({ kind: 'object', value: configurationView(tenant.name, r.configuration) }, r.noChange);
    },
  },
  {
    name: 'New-MmsTelemetryIngestionKey',
    area: AREA,
    synopsis: 'Creates the tenant\'s telemetry ingestion key for its clients and prints it once (only a hash is kept); the previous key stops working.',
    params: [],
    examples: ['npx mms New-MmsTelemetryIngestionKey', 'npx mms New-MmsTelemetryIngestionKey -Tenant Contoso'],
    async run(ctx) {
      const tenant = await resolveTenant(ctx.db, ctx.tenant);
      const r = await newIngestionKey(change(ctx), tenant);
      return {
        kind: 'object',
        value: {
          Identity: tenant.name, IngestionKey: r.key, ReplacedPreviousKey: r.replaced,
          Note: 'Copy the key now: it is not shown again. Clients send it as Authorization: MmsTelemetry <key> to /telemetry/v1/*.',
        },
      };
    },
  },
  {
    name: 'Get-CsWebServiceConfiguration',
    area: AREA,
    synopsis: 'Shows MeetingUxEnableTelemetry of Global and of each pool set (a pool never set follows Global).',
    params: [{ name: 'Identity', type: 'string', position: 0, help: 'Global, or a pool as Service:WebServer:pool01.contoso.com (or its FQDN).' }],
    examples: ['npx mms Get-CsWebServiceConfiguration', 'npx mms Get-CsWebServiceConfiguration -Identity Service:WebServer:pool01.contoso.com'],
    async run(ctx, a) {
      const tenant = await resolveTenant(ctx.db, ctx.tenant);
      const rows = (await getWebServiceConfigurations(ctx.db, tenant, str(a, 'Identity'))).map((c) => ({ Identity: c.identity, MeetingUxEnableTelemetry: c.meetingUxEnableTelemetry }));
      return { kind: 'rows', rows, columns: ['Identity', 'MeetingUxEnableTelemetry'] };
    },
  },
  {
    name: 'Set-CsWebServiceConfiguration',
    area: AREA,
    synopsis: 'Turns Skype Meetings App and join launcher telemetry on or off for Global or one pool (default off).',
    params: [
      { name: 'Identity', type: 'string', required: true, position: 0, help: 'Global, or a pool as Service:WebServer:pool01.contoso.com (or its FQDN).' },
      { name: 'MeetingUxEnableTelemetry', type: 'bool', required: true, help: 'true: usage data and error reports of the Skype Meetings App and join launcher connected to this pool are collected.' },
    ],
    examples: ['npx mms Set-CsWebServiceConfiguration -Identity Service:WebServer:pool01.contoso.com -MeetingUxEnableTelemetry true', 'npx mms Set-CsWebServiceConfiguration -Identity Global -MeetingUxEnableTelemetry false'],
    async run(ctx, a) {
      const tenant = await resolveTenant(ctx.db, ctx.tenant);
      const r = await setWebServiceConfiguration(change(ctx), tenant, req(a, 'Identity'), a.MeetingUxEnableTelemetry as boolean);
      return noChange({ kind: 'object', value: { Identity: r.configuration.identity, MeetingUxEnableTelemetry: r.configuration.meetingUxEnableTelemetry } }, r.noChange);
    },
  },
  {
    name: 'Get-MmsUserTelemetry',
    area: AREA,
    synopsis: 'Shows whether a user opted in to error reporting (shown by a pseudonym: MMS keeps no list of user ids).',
    params: [{ name: 'Identity', type: 'string', required: true, position: 0, help: 'The user id the client reports: alice@contoso.com or sip:alice@contoso.com.' }],
    examples: ['npx mms Get-MmsUserTelemetry -Identity meganb@contoso.com'],
    async run(ctx, a) {
      const tenant = await resolveTenant(ctx.db, ctx.tenant);
      const r = await getUserTelemetry(ctx.db, await checkedPseudonymsFor(ctx), tenant, req(a, 'Identity'));
      return { kind: 'object', value: { User: r.user, ErrorReportingOptIn: r.errorReportingOptIn } };
    },
  },
  {
    name: 'Set-MmsUserTelemetry',
    area: AREA,
    synopsis: 'Records a user\'s choice to send error reports; opting out deletes the user\'s stored error reports.',
    params: [
      { name: 'Identity', type: 'string', required: true, position: 0, help: 'The user id the client reports: alice@contoso.com or sip:alice@contoso.com.' },
      { name: 'ErrorReportingOptIn', type: 'bool', required: true, help: 'true: the user\'s error reports are collected (unless the tenant sets DisableAutomaticSendTracing); false: refused, and those stored are deleted.' },
    ],
    examples: ['npx mms Set-MmsUserTelemetry -Identity meganb@contoso.com -ErrorReportingOptIn true', 'npx mms Set-MmsUserTelemetry -Identity meganb@contoso.com -ErrorReportingOptIn false'],
    async run(ctx, a) {
      const tenant = await resolveTenant(ctx.db, ctx.tenant);
      const r = await setUserTelemetry(change(ctx), await checkedPseudonymsFor(ctx), tenant, req(a, 'Identity'), a.ErrorReportingOptIn as boolean);
      return noChange({ kind: 'object', value: { User: r.user, ErrorReportingOptIn: r.errorReportingOptIn, ErrorReportsDeleted: r.deletedErrorReports } }, r.noChange);
    },
  },
];
