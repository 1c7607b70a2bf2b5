import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { MmsError, type MmsErrorCode } from '../src/domain/errors.js';
import type { Config } from '../src/config.js';
import { validateCmdlets, type Cmdlet, type CmdletContext, type CmdletResult } from '../src/cli/cmdlet.js';
import { runCli } from '../src/cli/run-cli.js';
import { formatTable, displayWidth, cut } from '../src/cli/format.js';
import { readDateTime } from '../src/cli/parse-value.js';
import { closestCmdlets, editDistance } from '../src/cli/suggest.js';
import { groupByArea } from '../src/cli/help.js';

const REF = Date.UTC(2026, 10, 21, 12, 0, 0); // the suite's fixed "now"
const ROOT = path.resolve(import.meta.dirname, '..');
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-cli-'));
const DB_URL = path.join(tmpDir, 'mms.sqlite');
after(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

/** What the last fake cmdlet saw. */
let seen: { args?: Record<string, unknown>; ctx?: CmdletContext } = {};
let nextResult: CmdletResult = { kind: 'none' };

function fake(name: string, params: Cmdlet['params'], extra: Partial<Cmdlet> = {}): Cmdlet {
  return {
    name,
    synopsis: `Does ${name} things.`,
    params,
    examples: [`mms ${name} ${params.filter((p) => p.required).map((p) => `-${p.name} x`).join(' ')}`.trim()],
    needsDb: false,
    async run(ctx, args) {
      seen = { args, ctx };
      return nextResult;
    },
    ...extra,
  };
}

const FAKES: Cmdlet[] = [
  fake('Get-CsMeetingMigrationStatus', [
    { name: 'Identity', type: 'string', aliases: ['UserId'], position: 0, help: 'The user, by UPN.' },
    { name: 'StartTime', type: 'datetime', help: 'Requests created after this time.' },
    { name: 'EndTime', type: 'datetime', help: 'Requests created before this time.' },
    { name: 'SummaryOnly', type: 'switch', help: 'Counts per state only.' },
    { name: 'State', type: 'enum', values: ['Pending', 'InProgress', 'Failed', 'Succeeded'], help: 'Only requests in this state.' },
  ]),
  fake('Start-CsExMeetingMigration', [
    { name: 'Identity', type: 'string', required: true, position: 0, help: 'The user whose meetings to migrate.' },
    { name: 'SourceMeetingType', type: 'enum', values: ['All', 'SfB', 'Teams'], help: 'Which meetings.' },
    { name: 'WhatIf', type: 'switch', help: 'Show what would change.' },
  ]),
  fake('Get-CsMeetingMigrationTransactionHistory', [
    { name: 'Identity', type: 'string', required: true, help: 'The user.' },
  ]),
  fake('Set-CsTenantMigrationConfiguration', [
    { name: 'MeetingMigrationEnabled', type: 'bool', help: 'Turns the service on or off for the tenant.' },
  ]),
  fake('Set-CsOnlineDialInConferencingTenantSettings', [
    { name: 'AutomaticallyMigrateUserMeetings', type: 'bool', help: 'Migrate after changes.' },
    { name: 'AutomaticallyReplaceAcpProvider', type: 'bool', help: 'Replace a third-party provider.' },
    { name: 'PinLength', type: 'int', help: 'Leader PIN length, 4 to 12.' },
  ]),
  fake('Move-CsUser', [
    { name: 'Identity', type: 'string[]', required: true, position: 0, help: 'Users to move.' },
    { name: 'Target', type: 'enum', values: ['Online', 'OnPremises'], required: true, help: 'Where to.' },
  ]),
  fake('Set-MmsNote', [
    { name: 'Text', type: 'string', help: 'Any text.' },
    { name: 'Offset', type: 'int', help: 'Minutes, may be negative.' },
  ]),
  fake('Test-MmsFailure', [{ name: 'Code', type: 'string', required: true, help: 'Error code to throw, or Plain.' }], {
    async run(_ctx, args) {
      if (args.Code === 'Plain') throw new Error('disk on fire\nsecond line');
      throw new MmsError(args.Code as MmsErrorCode, `failed with ${String(args.Code)}; fix it`);
    },
  }),
  fake('Get-MmsDbCheck', [], {
    needsDb: true,
    async run(ctx) {
      seen = { ctx };
      const r = await sql<{ n: number }>`select 1 as n`.execute(ctx.db.kysely);
      return { kind: 'message', text: `db ok ${r.rows[0]?.n}` };
    },
  }),
  fake('Get-MmsNoDb', [], {
    async run(ctx) {
      return { kind: 'message', text: String(ctx.db) };
    },
  }),
];

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

interface RunOpts {
  env?: NodeJS.ProcessEnv;
  isTty?: boolean;
  cmdlets?: readonly Cmdlet[];
  serve?: (config: Config) => Promise<void>;
  columns?: number;
}

async function mms(argv: string[], opts: RunOpts = {}): Promise<{ code: number; out: string; err: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  if (opts.columns) (stdout as unknown as { columns: number }).columns = opts.columns;
  seen = {};
  const code = await runCli(
    argv,
    { stdout, stderr, env: { MMS_DATABASE_URL: DB_URL, ...opts.env }, isTty: opts.isTty ?? false, now: () => REF },
    opts.cmdlets ?? FAKES,
    opts.serve,
  );
  return { code, out: stdout.text, err: stderr.text };
}

/** Runs a command that must succeed and returns the arguments the cmdlet received. */
async function args(...argv: string[]): Promise<Record<string, unknown>> {
  const r = await mms(argv);
  assert.equal(r.err, '');
  assert.equal(r.code, 0);
  return seen.args!;
}

/** Runs a command that must be a usage error and returns its one stderr line. */
async function usage(...argv: string[]): Promise<string> {
  const r = await mms(argv);
  assert.equal(r.code, 2, `expected exit 2 for ${argv.join(' ')}, got ${r.code}: ${r.err}`);
  assert.equal(r.out, '');
  assert.match(r.err, /^mms: [^\n]+\n$/);
  return r.err.trim();
}

describe('mms argument parsing', () => {
  it('binds -Name value with cmdlet and parameter names in any case, under the canonical name', async () => {
    assert.deepEqual(await args('get-csmeetingmigrationstatus', '-identity', 'alice@contoso.com', '-STATE', 'failed'), {
      Identity: 'alice@contoso.com',
      State: 'Failed',
    });
  });

  it('binds an alias to its parameter', async () => {
    assert.deepEqual(await args('Get-CsMeetingMigrationStatus', '-UserId', 'bob@contoso.com'), { Identity: 'bob@contoso.com' });
  });

  it('accepts a unique prefix of a parameter name', async () => {
    assert.deepEqual(await args('Get-CsMeetingMigrationStatus', '-Sum', '-Stat', 'Pending'), { SummaryOnly: true, State: 'Pending' });
    assert.deepEqual(await args('Set-CsOnlineDialInConferencingTenantSettings', '-Pin', '6'), { PinLength: 6 });
  });

  it('reports an ambiguous prefix with every candidate', async () => {
    assert.match(await usage('Get-CsMeetingMigrationStatus', '-Sta', 'Pending'), /-Sta is ambiguous for Get-CsMeetingMigrationStatus: it could be -StartTime or -State; type more of the name$/);
    const line = await usage('Set-CsOnlineDialInConferencingTenantSettings', '-Automatically', 'true');
    assert.match(line, /-Automatically is ambiguous/);
    assert.match(line, /-AutomaticallyMigrateUserMeetings or -AutomaticallyReplaceAcpProvider/);
  });

  it('accepts -Name:value, -Name: value and double-dash names', async () => {
    assert.deepEqual(await args('Set-CsTenantMigrationConfiguration', '-MeetingMigrationEnabled:$false'), { MeetingMigrationEnabled: false });
    assert.deepEqual(await args('Get-CsMeetingMigrationStatus', '-Identity:', 'a@b.c'), { Identity: 'a@b.c' });
    assert.deepEqual(await args('Get-CsMeetingMigrationStatus', '--identity', 'a@b.c'), { Identity: 'a@b.c' });
    assert.deepEqual(await args('Get-CsMeetingMigrationStatus', '-StartTime:2016-10-01T10:00:00Z'), { StartTime: Date.UTC(2016, 9, 1, 10) });
  });

  it('reads booleans as true/false, $true/$false and 1/0 in any case', async () => {
    for (const [text, want] of [['true', true], ['FALSE', false], ['$True', true], ['$false', false], ['1', true], ['0', false]] as const) {
      assert.deepEqual(await args('Set-CsTenantMigrationConfiguration', '-MeetingMigrationEnabled', text), { MeetingMigrationEnabled: want });
    }
    const line = await usage('Set-CsTenantMigrationConfiguration', '-MeetingMigrationEnabled', 'yes');
    assert.equal(line, 'mms: -MeetingMigrationEnabled expects true or false ($true/$false or 1/0 also work), not "yes"');
  });

  it('explains that the shell ate an unquoted $false', async () => {
    // What bash passes for `-MeetingMigrationEnabled $false`, `-MeetingMigrationEnabled:$false` and `-WhatIf:$false` without quotes.
    assert.equal(
      await usage('Set-CsTenantMigrationConfiguration', '-MeetingMigrationEnabled'),
      "mms: -MeetingMigrationEnabled needs a value at the end: give -MeetingMigrationEnabled <true|false>, e.g. -MeetingMigrationEnabled true (a Unix shell turns an unquoted $false into nothing: write false, or quote it as '$false')",
    );
    assert.match(await usage('Set-CsTenantMigrationConfiguration', '-MeetingMigrationEnabled:'), /needs a value at the end: .*a Unix shell turns an unquoted \$false into nothing: write false, or quote it as '\$false'\)$/);
    assert.match(await usage('Set-CsTenantMigrationConfiguration', '-MeetingMigrationEnabled', ''), /expects true or false .*, not ""; a Unix shell turns an unquoted \$false into nothing/);
    assert.match(await usage('Start-CsExMeetingMigration', 'a@b.c', '-WhatIf:'), /-WhatIf expects true or false .*, not ""; a Unix shell/);
  });

  it('turns a switch on alone, off with :$false, and leaves it absent when not given', async () => {
    assert.deepEqual(await args('Start-CsExMeetingMigration', 'a@b.c', '-WhatIf'), { Identity: 'a@b.c', WhatIf: true });
    assert.deepEqual(await args('Start-CsExMeetingMigration', 'a@b.c', '-WhatIf:$false'), { Identity: 'a@b.c', WhatIf: false });
    assert.deepEqual(await args('Start-CsExMeetingMigration', 'a@b.c'), { Identity: 'a@b.c' });
    // A switch takes no value, so the next bare word is a positional value, not the switch's.
    assert.deepEqual(await args('Start-CsExMeetingMigration', '-WhatIf', 'a@b.c'), { Identity: 'a@b.c', WhatIf: true });
  });

  it('collects a list from commas, from several values, from repeats and by position', async () => {
    const want = { Identity: ['a', 'b', 'c'], Target: 'Online' };
    assert.deepEqual(await args('Move-CsUser', '-Identity', 'a,b,c', '-Target', 'Online'), want);
    assert.deepEqual(await args('Move-CsUser', '-Identity', 'a', 'b', 'c', '-Target', 'online'), want);
    assert.deepEqual(await args('Move-CsUser', '-Identity', 'a', '-Target', 'Online', '-Identity', 'b,c'), want);
    assert.deepEqual(await args('Move-CsUser', '-Identity', 'a,', 'b', 'c', '-Target', 'Online'), want);
    assert.deepEqual(await args('Move-CsUser', 'a', 'b', 'c', '-Target', 'Online'), want);
    assert.deepEqual(await args('Move-CsUser', '-Identity:a,b,c', '-Target', 'Online'), want);
  });

  it('binds a bare value to the positional parameter', async () => {
    assert.deepEqual(await args('Start-CsExMeetingMigration', 'alice@contoso.com', '-SourceMeetingType', 'teams'), {
      Identity: 'alice@contoso.com',
      SourceMeetingType: 'Teams',
    });
  });

  it('takes a value that starts with a dash when a parameter expects one', async () => {
    assert.deepEqual(await args('Set-MmsNote', '-Offset', '-5'), { Offset: -5 });
    assert.deepEqual(await args('Set-MmsNote', '-Text', '-draft-'), { Text: '-draft-' });
    // ...but a known parameter name right after one that needs a value is a missing value.
    assert.equal(await usage('Set-MmsNote', '-Text', '-Offset', '3'), 'mms: -Text needs a value before -Offset: give -Text <string>, e.g. -Text <text>');
  });

  it('treats everything after -- as values', async () => {
    assert.deepEqual(await args('Get-CsMeetingMigrationStatus', '--', '-odd@contoso.com'), { Identity: '-odd@contoso.com' });
  });

  it('reads dates in ISO 8601 and in the US form the docs use, as UTC when no zone is given', async () => {
    const cases: [string[], number][] = [
      [['2016-10-01'], Date.UTC(2016, 9, 1)],
      [['2016-10-01T14:30'], Date.UTC(2016, 9, 1, 14, 30)],
      [['2016-10-01T14:30:15.250Z'], Date.UTC(2016, 9, 1, 14, 30, 15, 250)],
      [['2016-10-01T14:30:00+02:00'], Date.UTC(2016, 9, 1, 12, 30)],
      [['2016-10-01T14:30:00-0500'], Date.UTC(2016, 9, 1, 19, 30)],
      [['2016-10-01 14:30:00'], Date.UTC(2016, 9, 1, 14, 30)],
      [['2016-10-01', '14:30'], Date.UTC(2016, 9, 1, 14, 30)],
      [['10/1/2016'], Date.UTC(2016, 9, 1)],
      [['10/1/2016 2:30 PM'], Date.UTC(2016, 9, 1, 14, 30)],
      [['10/1/2016', '2:30', 'PM'], Date.UTC(2016, 9, 1, 14, 30)],
      [['10/1/2016', '12:05:09', 'am'], Date.UTC(2016, 9, 1, 0, 5, 9)],
      [['2/29/2016', '23:59'], Date.UTC(2016, 1, 29, 23, 59)],
    ];
    for (const [tokens, want] of cases) {
      assert.deepEqual(await args('Get-CsMeetingMigrationStatus', '-StartTime', ...tokens, '-State', 'Failed'), { StartTime: want, State: 'Failed' }, tokens.join(' '));
    }
    for (const bad of ['2/30/2016', '2016-13-01', 'yesterday', '10/1/2016 13:00 PM', '2016-10-01T25:00']) {
      const line = await usage('Get-CsMeetingMigrationStatus', '-StartTime', bad);
      assert.match(line, /^mms: -StartTime expects a date such as 2016-10-01, .*10\/1\/2016 2:30 PM \(no zone = UTC\), not "/);
    }
  });

  it('rejects a number that is not whole, saying which format it wants', async () => {
    for (const bad of ['5.5', 'five', '1e3', '']) {
      assert.equal(await usage('Set-CsOnlineDialInConferencingTenantSettings', '-PinLength', bad), `mms: -PinLength expects a whole number such as 5 or -1, not ${JSON.stringify(bad)}`);
    }
  });

  it('returns enum values in their canonical casing and lists them when none matches', async () => {
    assert.deepEqual(await args('Get-CsMeetingMigrationStatus', '-State', 'INPROGRESS'), { State: 'InProgress' });
    assert.equal(await usage('Get-CsMeetingMigrationStatus', '-State', 'Done'), 'mms: -State expects Pending, InProgress, Failed or Succeeded, not "Done"');
  });

  it('names a missing required parameter and shows an example', async () => {
    assert.equal(await usage('Start-CsExMeetingMigration'), 'mms: Start-CsExMeetingMigration needs -Identity, e.g. mms Start-CsExMeetingMigration -Identity x');
    assert.match(await usage('Move-CsUser'), /^mms: Move-CsUser needs -Identity and -Target, e.g. /);
  });

  it('names the closest parameters for an unknown one', async () => {
    assert.equal(
      await usage('Move-CsUser', '-Identity', 'a', '-Targt', 'Online'),
      'mms: Move-CsUser has no parameter -Targt; did you mean -Target? (mms help Move-CsUser)',
    );
    assert.match(await usage('Get-CsMeetingMigrationStatus', '-Frobnicate', 'x'), /has no parameter -Frobnicate; it takes -Identity, -StartTime, -EndTime, -SummaryOnly, -State/);
  });

  it('refuses a parameter given twice and a value with no parameter to take it', async () => {
    assert.match(await usage('Get-CsMeetingMigrationStatus', '-State', 'Failed', '-State', 'Pending'), /-State was given twice; give it once/);
    assert.match(await usage('Get-CsMeetingMigrationStatus', 'a@b.c', 'extra'), /^mms: unexpected value "extra" for Get-CsMeetingMigrationStatus; put the parameter name before it/);
  });

  it('says when a parameter is missing its value at the end', async () => {
    assert.equal(await usage('Get-CsMeetingMigrationStatus', '-StartTime'), 'mms: -StartTime needs a value at the end: give -StartTime <datetime>, e.g. -StartTime 2016-10-01');
  });

  it('takes -Tenant and --json as common parameters and falls back to MMS_TENANT', async () => {
    nextResult = { kind: 'message', text: 'hi' };
    let r = await mms(['Get-CsMeetingMigrationStatus', '-Tenant', 'contoso.com', '--json']);
    assert.equal(r.code, 0);
    assert.deepEqual(seen.args, {});
    assert.equal(seen.ctx!.tenant, 'contoso.com');
    assert.deepEqual(JSON.parse(r.out), { Message: 'hi' });
    r = await mms(['Get-CsMeetingMigrationStatus', '-Json'], { env: { MMS_TENANT: 'fabrikam' } });
    assert.equal(seen.ctx!.tenant, 'fabrikam');
    assert.deepEqual(JSON.parse(r.out), { Message: 'hi' });
    r = await mms(['--json', 'Get-CsMeetingMigrationStatus']);
    assert.deepEqual(JSON.parse(r.out), { Message: 'hi' });
    nextResult = { kind: 'none' };
  });

  it('gives the cmdlet the injected clock, the actor and the config', async () => {
    await mms(['Get-CsMeetingMigrationStatus'], { env: { MMS_ACTOR: 'admin@contoso.com', MMS_HISTORY_DAYS: '30' } });
    assert.equal(seen.ctx!.now(), REF);
    assert.equal(seen.ctx!.actor, 'admin@contoso.com');
    assert.equal(seen.ctx!.config.historyDays, 30);
    assert.equal(seen.ctx!.isTty, false);
    await mms(['Get-CsMeetingMigrationStatus']);
    assert.ok(seen.ctx!.actor.length > 0);
  });
});

describe('mms unknown cmdlets', () => {
  it('suggests the documented name when the Cs prefix is left out', async () => {
    assert.equal(
      await usage('Get-MeetingMigrationStatus'),
      'mms: unknown cmdlet "Get-MeetingMigrationStatus"; did you mean Get-CsMeetingMigrationStatus? (mms help lists every cmdlet)',
    );
  });

  it('suggests close names for a typo and at most three', async () => {
    assert.match(await usage('Get-CsMeetingMigrationStatu'), /did you mean Get-CsMeetingMigrationStatus\?/);
    assert.match(await usage('Strat-CsExMeetingMigration'), /did you mean Start-CsExMeetingMigration\?/);
    const names = closestCmdlets('Get-MeetingMigration', FAKES.map((c) => c.name));
    assert.ok(names.length <= 3 && names.length >= 2, names.join(','));
    assert.equal(names[0], 'Get-CsMeetingMigrationStatus');
  });

  it('points to mms help when nothing is close', async () => {
    assert.equal(await usage('Frobnicate-Everything'), 'mms: unknown cmdlet "Frobnicate-Everything"; mms help lists every cmdlet');
  });

  it('asks for a cmdlet name before parameters', async () => {
    assert.match(await usage('-Identity', 'x'), /^mms: expected a cmdlet name before -Identity/);
  });

  it('measures edit distance with swapped letters as one edit', () => {
    assert.equal(editDistance('Target', 'Targte'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('ABC', 'abc'), 0);
  });
});

describe('mms output', () => {
  const rows = [
    { UserPrincipalName: 'alice@contoso.com', State: 'Succeeded', TotalMeeting: 12, CreateDate: Date.UTC(2026, 10, 20, 9, 30), Languages: ['en-US', 'de-DE'], LastMessage: null },
    { UserPrincipalName: 'bob@contoso.com', State: 'Failed', TotalMeeting: 3, CreateDate: new Date(Date.UTC(2026, 10, 21)), Languages: [], LastMessage: 'Mailbox not found' },
  ];

  it('prints rows as an aligned table with a header, dashes, ISO dates, joined lists and right-aligned numbers', async () => {
    nextResult = { kind: 'rows', rows };
    const r = await mms(['Get-CsMeetingMigrationStatus']);
    assert.equal(r.code, 0);
    assert.equal(
      r.out,
      [
        'UserPrincipalName State     TotalMeeting CreateDate               Languages    LastMessage',
        '----------------- -----     ------------ ----------               ---------    -----------',
        'alice@contoso.com Succeeded           12 2026-11-20T09:30:00.000Z en-US, de-DE',
        'bob@contoso.com   Failed               3 2026-11-21T00:00:00.000Z              Mailbox not found',
        '',
      ].join('\n'),
    );
  });

  it('shows only the given columns in their order', async () => {
    nextResult = { kind: 'rows', rows, columns: ['State', 'UserPrincipalName'] };
    const r = await mms(['Get-CsMeetingMigrationStatus']);
    assert.equal(r.out.split('\n')[0], 'State     UserPrincipalName');
  });

  it('cuts long free-text cells (not key columns) with an ellipsis to fit a terminal, and never when piped', async () => {
    const long = { Organizer: 'alice@contoso.com', Subject: 'x'.repeat(200) };
    nextResult = { kind: 'rows', rows: [long] };
    const tty = await mms(['Get-CsMeetingMigrationStatus'], { isTty: true, columns: 60 });
    for (const line of tty.out.trimEnd().split('\n')) assert.ok(displayWidth(line) <= 60, `too wide: ${line}`);
    assert.match(tty.out, /x…/);
    assert.match(tty.out, /^alice@contoso\.com /m);
    const piped = await mms(['Get-CsMeetingMigrationStatus']);
    assert.ok(piped.out.includes('x'.repeat(200)));
    assert.ok(!piped.out.includes('…'));
  });

  it('never cuts a key column: when narrowing free text is not enough, prints a list view, a blank line between records', async () => {
    const rows = [
      { UserPrincipalName: 'lidia.holloway-marketing@contoso.com', State: 'Succeeded', TotalMeeting: 12, LastMessage: 'm'.repeat(40) },
      { UserPrincipalName: 'amy@contoso.com', State: 'InProgress', TotalMeeting: 3, LastMessage: null },
    ];
    nextResult = { kind: 'rows', rows };
    const table = await mms(['Get-CsMeetingMigrationStatus'], { isTty: true, columns: 80 });
    assert.equal(table.out.split('\n')[2], `lidia.holloway-marketing@contoso.com Succeeded            12 ${'m'.repeat(18)}…`, 'LastMessage narrowed, the rest whole');
    for (const columns of [40, 60]) {
      const list = await mms(['Get-CsMeetingMigrationStatus'], { isTty: true, columns });
      assert.equal(list.out, [
        'UserPrincipalName : lidia.holloway-marketing@contoso.com', 'State             : Succeeded', 'TotalMeeting      : 12', `LastMessage       : ${'m'.repeat(40)}`, '',
        'UserPrincipalName : amy@contoso.com', 'State             : InProgress', 'TotalMeeting      : 3', 'LastMessage       :', '',
      ].join('\n'), `at ${columns} columns`);
    }
    // A result may name its own key columns: then only those are kept whole.
    nextResult = { kind: 'rows', rows, keyColumns: ['State'] };
    const own = await mms(['Get-CsMeetingMigrationStatus'], { isTty: true, columns: 60 });
    assert.equal(own.out.split('\n')[2], `lidia.holloway-m… Succeeded            12 ${'m'.repeat(17)}…`, 'UPN and LastMessage narrowed to the UPN header');
  });

  it('counts wide characters as two columns when cutting', () => {
    assert.equal(displayWidth('会議の招待'), 10);
    assert.equal(cut('会議の招待', 6), '会議…');
    assert.equal(displayWidth('e\u0301'), 1);
    const table = formatTable([{ Subject: '会議', N: 1 }], undefined, undefined);
    assert.equal(table.split('\n')[0], 'Subject N');
  });

  it('keeps terminal escape characters out of table cells', () => {
    const table = formatTable([{ Subject: 'a\u001b[31mred\nline' }]);
    assert.ok(!table.includes('\u001b'));
    assert.equal(table.split('\n')[2], 'a [31mred line');
  });

  it('prints an object as padded "Name : Value" lines', async () => {
    nextResult = { kind: 'object', value: { Identity: 'alice@contoso.com', MeetingMigrationEnabled: true, ModifiedDate: Date.UTC(2026, 0, 2), Bridges: ['b1', 'b2'], Note: null } };
    const r = await mms(['Get-CsMeetingMigrationStatus']);
    assert.equal(
      r.out,
      [
        'Identity                : alice@contoso.com',
        'MeetingMigrationEnabled : True',
        'ModifiedDate            : 2026-01-02T00:00:00.000Z',
        'Bridges                 : b1, b2',
        'Note                    :',
        '',
      ].join('\n'),
    );
  });

  it('prints JSON with the PascalCase names and ISO dates', async () => {
    nextResult = { kind: 'rows', rows, columns: ['State'] };
    const r = await mms(['Get-CsMeetingMigrationStatus', '--json']);
    assert.equal(r.code, 0);
    const parsed = JSON.parse(r.out) as Record<string, unknown>[];
    assert.deepEqual(parsed[0], {
      UserPrincipalName: 'alice@contoso.com',
      State: 'Succeeded',
      TotalMeeting: 12,
      CreateDate: '2026-11-20T09:30:00.000Z',
      Languages: ['en-US', 'de-DE'],
      LastMessage: null,
    });
    assert.equal(parsed[1]!.CreateDate, '2026-11-21T00:00:00.000Z');
    assert.ok(r.out.startsWith('[\n  {\n    "UserPrincipalName"'), 'two-space indented');
    nextResult = { kind: 'object', value: { StartTime: Date.UTC(2016, 9, 1), Count: 2 } };
    assert.deepEqual(JSON.parse((await mms(['Get-CsMeetingMigrationStatus', '--json'])).out), { StartTime: '2016-10-01T00:00:00.000Z', Count: 2 });
  });

  it('prints a message as a line, or as {"Message": …} in JSON, and nothing for none', async () => {
    nextResult = { kind: 'message', text: 'Started migration for alice@contoso.com.' };
    assert.equal((await mms(['Get-CsMeetingMigrationStatus'])).out, 'Started migration for alice@contoso.com.\n');
    nextResult = { kind: 'none' };
    const r = await mms(['Get-CsMeetingMigrationStatus']);
    assert.equal(r.out, '');
    assert.equal(r.code, 0);
    nextResult = { kind: 'rows', rows: [] };
    assert.equal((await mms(['Get-CsMeetingMigrationStatus'])).out, '');
    assert.equal((await mms(['Get-CsMeetingMigrationStatus', '--json'])).out, '[]\n');
    nextResult = { kind: 'none' };
  });
});

describe('mms help', () => {
  it('lists every cmdlet grouped by area, the environment variables and mms serve', async () => {
    for (const argv of [['help'], ['--help'], ['-?'], []]) {
      const r = await mms(argv);
      assert.equal(r.code, 0);
      assert.equal(r.err, '');
      for (const c of FAKES) assert.ok(r.out.includes(`${c.name}  `), `lists ${c.name}`);
      assert.match(r.out, /^Usage:$/m);
      assert.match(r.out, /^ {2}Meeting Migration$/m);
      assert.match(r.out, /^ {2}MMS_DATABASE_URL +Database: /m);
      assert.match(r.out, /^ {2}MMS_HISTORY_DAYS /m);
      assert.match(r.out, /mms serve/);
    }
  });

  it('groups cmdlets whose nouns share their first words, in table order', () => {
    const groups = groupByArea(FAKES).map((g) => [g.title, g.cmdlets.map((c) => c.name)]);
    assert.deepEqual(groups[0], ['Meeting Migration', ['Get-CsMeetingMigrationStatus', 'Start-CsExMeetingMigration', 'Get-CsMeetingMigrationTransactionHistory']]);
    assert.deepEqual(groups[1], ['Tenant Migration Configuration', ['Set-CsTenantMigrationConfiguration']]);
    assert.deepEqual(groupByArea([fake('Get-A', [], { area: 'Zed' }), fake('Get-B', [], { area: 'zed' })]).map((g) => g.cmdlets.length), [2]);
  });

  it("shows one cmdlet's synopsis, syntax, parameters and examples", async () => {
    const r = await mms(['help', 'get-csmeetingmigrationstatus']);
    assert.equal(r.code, 0);
    assert.match(r.out, /Does Get-CsMeetingMigrationStatus things\./);
    assert.match(
      r.out,
      /mms Get-CsMeetingMigrationStatus \[\[-Identity\] <string>\] \[-StartTime <datetime>\] \[-EndTime <datetime>\] \[-SummaryOnly\] \[-State <Pending\|InProgress\|Failed\|Succeeded>\] \[-Tenant <string>\] \[--json\]/,
    );
    assert.match(r.out, /-Identity <string>\n\s+optional; position 0; alias -UserId\n\s+The user, by UPN\./);
    assert.match(r.out, /-StartTime <datetime>\n.*\n.*\n\s+A date: 2016-10-01/);
    assert.match(r.out, /EXAMPLES\n {2}mms Get-CsMeetingMigrationStatus/);
    const syntax = (await mms(['help', 'Move-CsUser'])).out;
    assert.match(syntax, /mms Move-CsUser \[-Identity\] <string\[\]> -Target <Online\|OnPremises>/);
  });

  it('shows the same help for -? and --help after a cmdlet, even with other parameters', async () => {
    const want = (await mms(['help', 'Move-CsUser'])).out;
    assert.equal((await mms(['Move-CsUser', '-?'])).out, want);
    assert.equal((await mms(['move-csuser', '-Target', 'Nowhere', '--help'])).out, want);
  });

  it('names the closest cmdlets for help on an unknown one', async () => {
    assert.match(await usage('help', 'Move-User'), /unknown cmdlet "Move-User"; did you mean Move-CsUser\?/);
  });

  it('prints the version', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await mms(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.out, `mms ${pkg.version}\n`);
  });
});

describe('mms errors and exit codes', () => {
  it('maps a thrown MmsError to exit 2 for Usage and Config and to exit 1 otherwise', async () => {
    const want: Record<MmsErrorCode, number> = { Usage: 2, Config: 2, NotFound: 1, Conflict: 1, Invalid: 1, Transient: 1 };
    for (const [code, exit] of Object.entries(want)) {
      const r = await mms(['Test-MmsFailure', '-Code', code]);
      assert.equal(r.code, exit, code);
      assert.equal(r.err, `mms: failed with ${code}; fix it\n`);
      assert.equal(r.out, '');
    }
  });

  it('reports any other exception as one line with exit 1, and the stack only with MMS_DEBUG=1', async () => {
    let r = await mms(['Test-MmsFailure', '-Code', 'Plain']);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'mms: Test-MmsFailure failed: disk on fire second line (set MMS_DEBUG=1 to see where)\n');
    r = await mms(['Test-MmsFailure', '-Code', 'Plain'], { env: { MMS_DEBUG: '1' } });
    assert.equal(r.code, 1);
    assert.match(r.err, /^mms: Test-MmsFailure failed: disk on fire second line\n/);
    assert.match(r.err, /at .*cli-framework\.test\.ts/);
  });

  it('stops with exit 2 and the fix when the environment is invalid', async () => {
    const r = await mms(['Get-CsMeetingMigrationStatus'], { env: { MMS_HISTORY_DAYS: 'many' } });
    assert.equal(r.code, 2);
    assert.equal(r.err, 'mms: MMS_HISTORY_DAYS="many" is not valid: give a whole number of days, 1 or more\n');
  });

  it('opens the database for a cmdlet that needs it and closes it afterwards', async () => {
    const r = await mms(['Get-MmsDbCheck']);
    assert.equal(r.err, '');
    assert.equal(r.out, 'db ok 1\n');
    assert.ok(fs.existsSync(DB_URL));
    await assert.rejects(sql`select 1`.execute(seen.ctx!.db.kysely), 'the handle is closed after the command');
  });

  it('fails clearly when a cmdlet that declared needsDb: false reads ctx.db', async () => {
    const r = await mms(['Get-MmsNoDb']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^mms: Get-MmsNoDb failed: Get-MmsNoDb declares needsDb: false but reads ctx\.db/);
  });

  it('delegates mms serve to the function passed in, with the loaded config', async () => {
    let got: Config | undefined;
    const r = await mms(['serve'], { env: { MMS_MIGRATION_DELAY: '2m' }, serve: async (config) => void (got = config) });
    assert.equal(r.code, 0);
    assert.equal(got?.migrationDelayMs, 120_000);
    assert.equal((await mms(['serve', '--port', '1'], { serve: async () => undefined })).code, 2);
    assert.equal((await mms(['serve'])).code, 1);
    assert.match((await mms(['help', 'serve'])).out, /mms serve/);
  });

  it('finds no mistakes in a well-formed cmdlet table and names each mistake in a bad one', () => {
    assert.deepEqual(validateCmdlets(FAKES), []);
    const bad = [
      fake('Get-Thing', [
        { name: 'Identity', type: 'string', position: 0, help: 'x' },
        { name: 'Other', type: 'enum', aliases: ['identity'], position: 0, help: '' },
      ]),
      fake('get-thing', []),
    ];
    assert.deepEqual(validateCmdlets(bad), [
      'Get-Thing -identity: declared twice',
      'Get-Thing -Other: enum without values',
      'Get-Thing -Other: position 0 used twice',
      'Get-Thing -Other: no help text',
      'get-thing: name is not Verb-Noun',
      'get-thing: listed twice',
    ]);
  });

  it('finds no mistakes in the real cmdlet table', async () => {
    // Imported here, not at the top, so a half-written cmdlet elsewhere fails this test only.
    const { CMDLETS } = await import('../src/cli/cmdlets/index.js');
    assert.deepEqual(validateCmdlets(CMDLETS), []);
  });

  it('reads dates straight from text as epoch ms, or undefined when invalid', () => {
    assert.equal(new Date(readDateTime('0099-01-01')!).toISOString(), '0099-01-01T00:00:00.000Z');
    assert.equal(readDateTime('12/31/2016 11:59:59 PM'), Date.UTC(2016, 11, 31, 23, 59, 59));
    assert.equal(readDateTime('2016-10-01T10:00:00+15:00'), undefined);
    assert.equal(readDateTime(''), undefined);
  });
});

describe('mms as a process', () => {
  it('runs bin/mms.js help with exit 0 and lists the cmdlets', async () => {
    const { CMDLETS } = await import('../src/cli/cmdlets/index.js');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'mms.js'), 'help'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, MMS_DATABASE_URL: DB_URL },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Cmdlets:$/m);
    assert.ok(r.stdout.includes(CMDLETS[0]?.name ?? 'MMS_DATABASE_URL'));
    const bad = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'mms.js'), 'No-SuchCmdlet'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^mms: unknown cmdlet "No-SuchCmdlet"/m); // m: a checkout without a fresh dist/ says so first
  });
});
