import {
  getMailboxHosts, getUserMailboxView, MAILBOX_HOST_TYPES, newMailboxHost, removeMailboxHost, setMailboxHost, setUserMailbox, testMailboxHost,
  type MailboxHostType, type MailboxHostView, type UserMailboxView,
} from '../../directory/index.js';
import { secretsFor } from '../secrets.js';
import { readFileParam } from './paths.js';
import type { Cmdlet, CmdletContext } from '../cmdlet.js';
import { directory, num, req, str } from './shared.js';

const AREA = 'Mailbox hosts';

const box = (ctx: CmdletContext) => secretsFor(ctx.config, ctx.db);

/**
 * A password comes from a file, never from the command line (where `ps` and shell history would show it). One
 * trailing line break is not part of it.
 */
export function readPasswordFile(a: Record<string, unknown>): string | undefined {
  const file = str(a, 'PasswordFile');
  if (file === undefined) return undefined;
  const text = readFileParam('PasswordFile', file, 'a file that holds only the password').toString('utf8');
  return text.replace(/\r?\n$/, '');
}

function hostRow(h: MailboxHostView): Record<string, unknown> {
  return { Name: h.name, Type: h.type, Url: h.url, UserName: h.userName ?? '', Password: h.hasPassword ? '(stored, encrypted)' : '', MaxConcurrency: h.maxConcurrency, PrincipalUrlTemplate: h.principalUrlTemplate ?? '', Users: h.users };
}

function userMailboxRow(m: UserMailboxView): Record<string, unknown> {
  return { UserPrincipalName: m.upn, MailboxHost: m.mailboxHost, CalendarUrl: m.calendarUrl ?? '(discovered)', Credentials: m.userName ? `own account ${m.userName}` : 'the host\'s service account' };
}

const NAME = { name: 'Name', type: 'string', required: true, position: 0, help: 'The host\'s name, e.g. Radicale.' } as const;
const PASSWORD_FILE = { name: 'PasswordFile', type: 'string', help: 'A file holding only the password (read once, stored encrypted; never give a password on the command line).' } as const;

export const MAILBOX_HOST_CMDLETS: Cmdlet[] = [
  {
    name: 'New-MmsMailboxHost',
    area: AREA,
    synopsis: 'Registers a calendar server (CalDAV) that users\' mailboxes live on, with its service account.',
    params: [
      NAME,
      { name: 'Type', type: 'enum', values: MAILBOX_HOST_TYPES, required: true, help: 'CalDav.' },
      { name: 'Url', type: 'string', required: true, help: 'The server: https://dav.contoso.com/ (discovery asks its /.well-known/caldav first).' },
      { name: 'UserName', type: 'string', help: 'Service account with delegated access to the users\' calendars.' },
      PASSWORD_FILE,
      { name: 'MaxConcurrency', type: 'int', help: 'Most requests at once to this server from one mms process (1-64, default 4).' },
      { name: 'PrincipalUrlTemplate', type: 'string', help: 'Where a user\'s principal is, for the service account: {upn} or {localpart} is replaced, e.g. /principals/{upn}/.' },
    ],
    examples: ['npx mms New-MmsMailboxHost -Name Radicale -Type CalDav -Url https://dav.contoso.com/ -UserName mms-service -PasswordFile /etc/mms/dav-password -PrincipalUrlTemplate /{localpart}/'],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const h = await newMailboxHost(dir, tenant.id, {
        name: req(a, 'Name'), type: req(a, 'Type') as MailboxHostType, url: req(a, 'Url'), userName: str(a, 'UserName'), password: readPasswordFile(a),
        maxConcurrency: num(a, 'MaxConcurrency'), principalUrlTemplate: str(a, 'PrincipalUrlTemplate'),
      }, box(ctx));
      return { kind: 'object', value: hostRow(h) };
    },
  },
  {
    name: 'Get-MmsMailboxHost',
    area: AREA,
    synopsis: 'Lists the mailbox hosts (never their passwords) and how many users\' mailboxes are on each.',
    params: [{ ...NAME, required: false, help: 'Only the host with this name.' }],
    examples: ['npx mms Get-MmsMailboxHost', 'npx mms Get-MmsMailboxHost Radicale --json'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const rows = (await getMailboxHosts(ctx.db, tenant.id, str(a, 'Name'))).map(hostRow);
      return { kind: 'rows', rows, columns: ['Name', 'Type', 'Url', 'UserName', 'MaxConcurrency', 'Users'] };
    },
  },
  {
    name: 'Set-MmsMailboxHost',
    area: AREA,
    synopsis: 'Changes a mailbox host\'s URL, service account, password, concurrency or principal template.',
    params: [
      NAME,
      { name: 'Url', type: 'string', help: 'The server\'s new URL.' },
      { name: 'UserName', type: 'string', help: 'The service account ("" removes it and its password).' },
      PASSWORD_FILE,
      { name: 'MaxConcurrency', type: 'int', help: 'Most requests at once (1-64).' },
      { name: 'PrincipalUrlTemplate', type: 'string', help: 'Where a user\'s principal is ({upn}, {localpart}); "" removes it.' },
    ],
    examples: ['npx mms Set-MmsMailboxHost -Name Radicale -PasswordFile /etc/mms/new-dav-password', 'npx mms Set-MmsMailboxHost Radicale -MaxConcurrency 8'],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const h = await setMailboxHost(dir, tenant.id, req(a, 'Name'), {
        url: str(a, 'Url'), userName: str(a, 'UserName'), password: readPasswordFile(a), maxConcurrency: num(a, 'MaxConcurrency'), principalUrlTemplate: str(a, 'PrincipalUrlTemplate'),
      }, box(ctx));
      return { kind: 'object', value: hostRow(h) };
    },
  },
  {
    name: 'Remove-MmsMailboxHost',
    area: AREA,
    synopsis: 'Removes a mailbox host that no user\'s mailbox is on any more.',
    params: [NAME],
    examples: ['npx mms Remove-MmsMailboxHost -Name Radicale'],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      await removeMailboxHost(dir, tenant.id, req(a, 'Name'));
      return { kind: 'message', text: `Removed mailbox host ${req(a, 'Name')}.` };
    },
  },
  {
    name: 'Test-MmsMailboxHost',
    area: AREA,
    synopsis: 'Connects to a mailbox host, discovers the calendars and shows what the server offers, or says what failed and the fix.',
    params: [
      NAME,
      { name: 'Identity', type: 'string', help: 'Test as this user\'s mailbox is reached (their own credentials, calendar URL, or the principal template).' },
    ],
    examples: ['npx mms Test-MmsMailboxHost -Name Radicale', 'npx mms Test-MmsMailboxHost -Name Radicale -Identity meganb@contoso.com'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const t = await testMailboxHost(ctx.db, tenant.id, req(a, 'Name'), str(a, 'Identity'), box(ctx));
      return {
        kind: 'object',
        value: {
          Name: t.hostName,
          Status: 'Connected',
          UserName: t.userName ?? '',
          DavCompliance: t.davCompliance,
          CalendarAutoSchedule: t.autoSchedule,
          SyncCollection: t.calendars.some((c) => c.syncCollection),
          Principal: t.principalUrl ?? '',
          CalendarHome: t.calendarHomeUrl ?? '',
          Calendars: t.calendars.map((c) => `${c.displayName || '(no name)'} <${c.url}>`),
        },
      };
    },
  },
  {
    name: 'Set-MmsUserMailbox',
    area: AREA,
    synopsis: 'Puts a user\'s mailbox on a mailbox host, optionally at a given calendar URL and with the user\'s own credentials.',
    params: [
      { name: 'Identity', type: 'string', required: true, position: 0, help: 'The user: UserPrincipalName or SIP address.' },
      { name: 'MailboxHost', type: 'string', required: true, help: 'The host\'s name (New-MmsMailboxHost).' },
      { name: 'CalendarUrl', type: 'string', help: 'The user\'s calendar collection; without it the calendars are discovered.' },
      { name: 'UserName', type: 'string', help: 'The user\'s own account on the host, instead of the service account.' },
      PASSWORD_FILE,
    ],
    examples: ['npx mms Set-MmsUserMailbox -Identity meganb@contoso.com -MailboxHost Radicale', 'npx mms Set-MmsUserMailbox meganb@contoso.com -MailboxHost Radicale -UserName meganb -PasswordFile ./meganb-password'],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const m = await setUserMailbox(dir, tenant.id, req(a, 'Identity'), { hostName: req(a, 'MailboxHost'), calendarUrl: str(a, 'CalendarUrl'), userName: str(a, 'UserName'), password: readPasswordFile(a) }, box(ctx));
      return { kind: 'object', value: userMailboxRow(m) };
    },
  },
  {
    name: 'Get-MmsUserMailbox',
    area: AREA,
    synopsis: 'Shows which mailbox host a user\'s mailbox is on (or the built-in store).',
    params: [{ name: 'Identity', type: 'string', required: true, position: 0, help: 'The user: UserPrincipalName or SIP address.' }],
    examples: ['npx mms Get-MmsUserMailbox meganb@contoso.com'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const m = await getUserMailboxView(ctx.db, tenant.id, req(a, 'Identity'));
      return { kind: 'object', value: m ? userMailboxRow(m) : { UserPrincipalName: req(a, 'Identity'), MailboxHost: '(built-in store)', CalendarUrl: '', Credentials: '' } };
    },
  },
];
