// `mms help` (every cmdlet, grouped, plus the environment) and `mms help <Cmdlet>` (syntax, parameters, examples).
import fs from 'node:fs';
import { CONFIG_VARIABLES } from '../config.js';
import { packageRoot } from '../package-root.js';
import { COMMON_PARAMS, commonParamsFor, type Cmdlet, type ParamSpec } from './cmdlet.js';
import { DATETIME_FORMS, typeLabel } from './parse-value.js';
import { orList } from './suggest.js';
import { DEFAULT_FIRST } from './cmdlets/paging.js';

/** The version in the project's package.json ('unknown' if none is found). */
export function mmsVersion(): string {
  const root = packageRoot();
  if (!root) return 'unknown';
  const pkg = JSON.parse(fs.readFileSync(new URL('package.json', root), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** 'OnlineDialInConferencingUser' -> ['Online', 'Dial', 'In', 'Conferencing', 'User']; 'ACPProvider' -> ['ACP', 'Provider']. */
function words(s: string): string[] {
  return s.match(/[A-Z]+(?![a-z])|[A-Z][a-z0-9]*|[a-z0-9]+/g) ?? [];
}

/** The noun's words without the Cs/Mms/Ex prefix: 'Start-CsExMeetingMigration' -> ['Meeting', 'Migration']. */
function nounWords(name: string): string[] {
  const noun = name.slice(name.indexOf('-') + 1).replace(/^(Cs|Mms)(?=[A-Z])/, '').replace(/^Ex(?=[A-Z])/, '');
  return words(noun);
}

/**
 * Groups cmdlets for `mms help`, in table order: by `area` when given, else cmdlets whose nouns share their
 * first two words (MeetingMigrationStatus, MeetingMigration) or are equal land under those words.
 */
export function groupByArea(cmdlets: readonly Cmdlet[]): { title: string; cmdlets: Cmdlet[] }[] {
  const groups: { key: string[]; explicit: boolean; title: string; cmdlets: Cmdlet[] }[] = [];
  for (const c of cmdlets) {
    if (c.area) {
      const g = groups.find((x) => x.explicit && x.title.toLowerCase() === c.area!.toLowerCase());
      if (g) g.cmdlets.push(c);
      else groups.push({ key: [], explicit: true, title: c.area, cmdlets: [c] });
      continue;
    }
    const w = nounWords(c.name);
    let joined = false;
    for (const g of groups) {
      if (g.explicit) continue;
      let common = 0;
      while (common < g.key.length && common < w.length && g.key[common] === w[common]) common++;
      const same = common === g.key.length && common === w.length;
      if (same || common >= 2) {
        g.key = g.key.slice(0, common);
        g.cmdlets.push(c);
        joined = true;
        break;
      }
    }
    if (!joined) groups.push({ key: w, explicit: false, title: '', cmdlets: [c] });
  }
  return groups.map((g) => ({ title: g.explicit ? g.title : g.key.join(' ') || 'Other', cmdlets: g.cmdlets }));
}

function columns(rows: readonly (readonly [string, string])[], indent: string): string[] {
  const w = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${a.padEnd(w)}  ${b}`.trimEnd());
}

/** The overview `mms help` prints. */
export function renderOverview(cmdlets: readonly Cmdlet[]): string {
  const out: string[] = [
    `mms ${mmsVersion()}: Meeting Migration Service. Keeps meeting invitations right when an admin changes a user's`,
    'online-meeting or dial-in audio-conferencing details.',
    '',
    'Usage:',
    ...columns(
      [
        ['mms <Cmdlet> [-Parameter value …] [--json]', 'run a cmdlet; --json prints the documented fields as JSON'],
        ['mms help [<Cmdlet>]', "list the cmdlets, or show one cmdlet's parameters and examples"],
        ['mms <Cmdlet> -?', 'the same as mms help <Cmdlet>'],
        ['mms serve', 'run the migration worker until stopped (what npm start runs)'],
        ['mms --version', 'print the version'],
      ],
      '  ',
    ),
    '',
    'Cmdlets:',
  ];
  if (cmdlets.length === 0) out.push('  (none)');
  const nameWidth = Math.max(0, ...cmdlets.map((c) => c.name.length));
  for (const g of groupByArea(cmdlets)) {
    out.push(`  ${g.title}`);
    for (const c of g.cmdlets) out.push(`    ${c.name.padEnd(nameWidth)}  ${c.synopsis}`.trimEnd());
  }
  out.push(
    '',
    'Parameters: names and enum values are case-insensitive; a unique start of a name works (-Sum for -SummaryOnly);',
    '-Name:value works; lists as a,b,c or a b c; switches alone (-WhatIf) or -WhatIf:$false; booleans true/false/$true/$false/1/0;',
    `dates as ${DATETIME_FORMS}.`,
    '',
    `Listings (${'Get-CsMeetingMigrationStatus, Get-CsMeetingMigrationTransactionHistory, Get-MmsOutbox, Get-MmsAuditLog, Get-MmsMeeting'})`,
    `show at most ${DEFAULT_FIRST} rows unless -First says otherwise; -Skip leaves rows out first, so -First 1000 -Skip 1000 is the`,
    'second page. A listing never cuts silently: when rows are left out, one line on stderr says which and how many',
    'the database counts, e.g. "mms: Get-MmsOutbox showed rows 1-10000 of 27000; see the rest with -Skip 10000 (and -First)";',
    'stdout (--json too) holds the rows only, so scripts read the same array as before.',
    '',
    'Common parameters (every cmdlet):',
    ...columns(
      COMMON_PARAMS.map((p) => [p.type === 'switch' ? `--json, -${p.name}` : `-${p.name} <name or domain>`, p.help] as const),
      '  ',
    ),
    '',
    'Environment:',
    ...columns(
      CONFIG_VARIABLES.map(([name, def, text]) => [name, `${text} Default: ${def}.`] as const),
      '  ',
    ),
    '',
    'Exit codes: 0 success, 1 failure, 2 usage or configuration error.',
  );
  return `${out.join('\n')}\n`;
}

function syntaxPart(p: ParamSpec): string {
  if (p.type === 'switch') return `[-${p.name}]`;
  const name = p.position !== undefined ? `[-${p.name}]` : `-${p.name}`;
  const core = `${name} <${typeLabel(p)}>`;
  return p.required ? core : `[${core}]`;
}

/** `mms Name [-Identity] <string> [-Target <Online|OnPremises>] [-Tenant <string>] [--json]` */
export function syntaxLine(cmdlet: Cmdlet): string {
  const positional = cmdlet.params.filter((p) => p.position !== undefined).sort((a, b) => a.position! - b.position!);
  const named = cmdlet.params.filter((p) => p.position === undefined);
  const common = commonParamsFor(cmdlet).map((p) => (p.type === 'switch' ? '[--json]' : `[-${p.name} <${typeLabel(p)}>]`));
  return ['mms', cmdlet.name, ...[...positional, ...named].map(syntaxPart), ...common].join(' ');
}

function typeNote(p: ParamSpec): string {
  switch (p.type) {
    case 'datetime':
      return `A date: ${DATETIME_FORMS}.`;
    case 'string[]':
      return 'One or more values: a,b,c or a b c, or the parameter repeated.';
    case 'bool':
      return 'true or false ($true/$false and 1/0 also work).';
    case 'switch':
      return `A switch: give it alone to turn it on; -${p.name}:$false turns it off.`;
    case 'enum':
      return `One of ${orList(p.values ?? [])} (any case).`;
    case 'int':
      return 'A whole number.';
    default:
      return '';
  }
}

/** The page `mms help <Cmdlet>` and `mms <Cmdlet> -?` print. */
export function renderCmdletHelp(cmdlet: Cmdlet): string {
  const out = ['NAME', `  ${cmdlet.name}`, '', 'SYNOPSIS', `  ${cmdlet.synopsis}`, '', 'SYNTAX', `  ${syntaxLine(cmdlet)}`, '', 'PARAMETERS'];
  if (cmdlet.params.length === 0) out.push('  (none besides the common ones)', '');
  for (const p of cmdlet.params) {
    const facts = [p.required ? 'required' : 'optional'];
    if (p.position !== undefined) facts.push(`position ${p.position}`);
    if (p.aliases?.length) facts.push(`${p.aliases.length === 1 ? 'alias' : 'aliases'} ${p.aliases.map((a) => `-${a}`).join(', ')}`);
    out.push(p.type === 'switch' ? `  -${p.name}` : `  -${p.name} <${typeLabel(p)}>`, `      ${facts.join('; ')}`, `      ${p.help}`);
    const note = typeNote(p);
    if (note) out.push(`      ${note}`);
    out.push('');
  }
  const common = commonParamsFor(cmdlet);
  if (common.length) {
    out.push('COMMON PARAMETERS');
    out.push(...columns(common.map((p) => [p.type === 'switch' ? '--json' : `-${p.name} <name or domain>`, p.help] as const), '  '));
    out.push('');
  }
  out.push('EXAMPLES', ...cmdlet.examples.map((e) => `  ${e}`));
  return `${out.join('\n')}\n`;
}

/** The page `mms help serve` prints. */
export function renderServeHelp(): string {
  return [
    'NAME',
    '  serve',
    '',
    'SYNOPSIS',
    '  Runs the migration worker until stopped (Ctrl+C or SIGTERM: it finishes or gives back the work in hand).\n  On a new database it first loads the Contoso demo (MMS_DEMO=false turns that off).',
    '',
    'SYNTAX',
    '  mms serve',
    '',
    'Configure it with the MMS_* environment variables; mms help lists them.',
    '',
  ].join('\n');
}
