import {
  auditLogPage, checkTimeZone, dialInUsers, disableDialIn, enableDialIn, moveUser, newUser, setDialInUser, setLicense, setSipAddress, setUserAcp,
  setUserTimeZone,
} from '../../directory/index.js';
import { effectiveTimeZone, HOSTED_ON, LICENSES, MAILBOX_LOCATIONS, type HostedOn, type License, type MailboxLocation } from '../../domain/directory.js';
import { MmsError, usageError } from '../../domain/errors.js';
import type { Cmdlet } from '../cmdlet.js';
import { bool, directory, emailQueuedField, num, outcomeResult, outcomeRow, req, str, strs, whatIfRow, WHATIF_PARAM } from './shared.js';
import { pageArgs, PAGING_PARAMS } from './paging.js';

const IDENTITY = { name: 'Identity', type: 'string', required: true, position: 0, help: 'The user: UserPrincipalName or SIP address.' } as const;

/** -SendEmail / -SendEmailToAddress of Enable- and Set-CsOnlineDialInConferencingUser (the reference's; issue 12 §3). */
const SEND_EMAIL_PARAM = {
  name: 'SendEmail', type: 'switch',
  help: 'Email the user their audio-conferencing details now, in their language, whatever AutomaticallySendEmailsToUsers says: the conference ID and default numbers, and the leader PIN only when this command issues a new one (-ResetLeaderPin, or enabling the user); an existing PIN is stored only as a hash and cannot be sent.',
} as const;
const SEND_EMAIL_TO_ADDRESS_PARAM = {
  name: 'SendEmailToAddress', type: 'string',
  help: 'With -SendEmail: send it to this address instead of the user\'s UPN (one address, name@domain).',
} as const;

export const USER_CMDLETS: Cmdlet[] = [
  {
    name: 'New-MmsUser',
    area: 'Users',
    synopsis: 'Creates a user with a conference ID (the leader PIN comes with audio conferencing, emailed to the user).',
    params: [
      { name: 'UserPrincipalName', type: 'string', required: true, position: 0, help: 'name@verified-domain.' },
      { name: 'DisplayName', type: 'string', required: true, help: 'The name people see.' },
      { name: 'SipAddress', type: 'string', help: 'sip:name@domain (default: sip:<UPN>).' },
      { name: 'HostedOn', type: 'enum', values: HOSTED_ON, help: 'Where the user is homed (default Online).' },
      { name: 'MailboxLocation', type: 'enum', values: MAILBOX_LOCATIONS, help: 'Online = the built-in store MMS updates; OnPremises = out of MMS\'s reach (default Online).' },
      { name: 'PreferredLanguage', type: 'string', help: 'Language of the online meeting block, e.g. fr-FR (default en-US).' },
      { name: 'TimeZone', type: 'string', help: 'Zone of the user\'s floating meeting times: IANA (America/Los_Angeles) or Windows ("Pacific Standard Time") name, stored as IANA (default: the tenant\'s).' },
    ],
    examples: [
      'npx mms New-MmsUser -UserPrincipalName ashaw@contoso.com -DisplayName "Amy Shaw" -HostedOn OnPremises -PreferredLanguage en-US',
      'npx mms New-MmsUser -UserPrincipalName pgarcia@contoso.com -DisplayName "Pat Garcia" -TimeZone "Pacific Standard Time"',
    ],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const u = await newUser(dir, tenant.id, {
        userPrincipalName: req(a, 'UserPrincipalName'),
        displayName: req(a, 'DisplayName'),
        sipAddress: str(a, 'SipAddress'),
        hostedOn: str(a, 'HostedOn') as HostedOn | undefined,
        mailboxLocation: str(a, 'MailboxLocation') as MailboxLocation | undefined,
        preferredLanguage: str(a, 'PreferredLanguage'),
        timeZone: str(a, 'TimeZone'),
      });
      return { kind: 'object', value: { UserId: u.id, UserPrincipalName: u.upn, SipAddress: u.sipAddress, DisplayName: u.displayName, HostedOn: u.hostedOn, MailboxLocation: u.mailboxLocation, PreferredLanguage: u.preferredLanguage, ConferenceId: u.conferenceId, TimeZone: effectiveTimeZone(u, tenant) } };
    },
  },
  {
    name: 'Move-CsUser',
    workerNotice: 'queued',
    area: 'Users',
    synopsis: 'Moves a user between the on-premises deployment and online; moving online migrates their meetings (-MoveToTeams: converts them to Teams).',
    params: [
      IDENTITY, { name: 'Target', type: 'enum', values: HOSTED_ON, required: true, help: 'Online or OnPremises.' },
      { name: 'MoveToTeams', type: 'switch', help: 'With -Target Online: the user becomes TeamsOnly (TeamsUpgradePolicy UpgradeToTeams) and their Skype for Business meetings are converted to Teams meetings while every meeting gets the new information (MigrationType AllToTeams).' },
    ],
    examples: ['npx mms Move-CsUser -Identity lidiah@contoso.com -Target Online', 'npx mms Move-CsUser -Identity lidiah@contoso.com -Target Online -MoveToTeams'],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      return outcomeResult(await moveUser(dir, tenant.id, req(a, 'Identity'), req(a, 'Target') as HostedOn, bool(a, 'MoveToTeams') ?? false));
    },
  },
  {
    name: 'Set-CsUser',
    workerNotice: 'queued',
    area: 'Users',
    synopsis: 'Changes a user\'s SIP address (a documented non-trigger: meetings are not migrated) or time zone.',
    params: [
      IDENTITY,
      { name: 'SipAddress', type: 'string', help: 'sip:name@domain.' },
      { name: 'TimeZone', type: 'string', help: 'Zone of the user\'s floating meeting times: IANA or Windows name, stored as IANA. Their stored meetings\' times are derived again; nothing migrates.' },
    ],
    examples: ['npx mms Set-CsUser -Identity meganb@contoso.com -SipAddress sip:megan.bowen@contoso.com', 'npx mms Set-CsUser -Identity lynner@contoso.com -TimeZone America/Chicago'],
    async run(ctx, a) {
      const sip = str(a, 'SipAddress');
      const zone = str(a, 'TimeZone');
      if (sip === undefined && zone === undefined) throw usageError('nothing to change: give -SipAddress sip:name@domain or -TimeZone <IANA or Windows zone name>');
      if (zone !== undefined) checkTimeZone(zone); // a bad zone stops the command before the SIP address changes
      const { dir, tenant } = await directory(ctx);
      const identity = req(a, 'Identity');
      const bySip = sip === undefined ? null : await setSipAddress(dir, tenant.id, identity, sip);
      const byZone = zone === undefined ? null : await setUserTimeZone(dir, tenant.id, bySip?.user.upn ?? identity, zone);
      const row = outcomeRow((bySip ?? byZone)!);
      if (bySip && byZone) row.Reason = `${bySip.decision.reason}; ${byZone.decision.reason}`;
      if (byZone) row.TimeZone = byZone.user.timeZone;
      return { kind: 'object', value: row };
    },
  },
  {
    name: 'Set-MmsUserLicense',
    workerNotice: 'queued',
    area: 'Users',
    synopsis: 'Assigns or removes the Audio Conferencing licence.',
    params: [
      IDENTITY,
      { name: 'AddLicenses', type: 'string[]', help: 'Licences to assign: AudioConferencing.' },
      { name: 'RemoveLicenses', type: 'string[]', help: 'Licences to remove: AudioConferencing.' },
    ],
    examples: ['npx mms Set-MmsUserLicense -Identity leeg@contoso.com -AddLicenses AudioConferencing'],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const licences = (k: string): License[] | undefined => strs(a, k)?.map((l) => checkLicense(k, l));
      return outcomeResult(await setLicense(dir, tenant.id, req(a, 'Identity'), { add: licences('AddLicenses'), remove: licences('RemoveLicenses') }));
    },
  },
  {
    name: 'Set-CsUserAcp',
    workerNotice: 'queued',
    area: 'Audio conferencing',
    synopsis: 'Puts a user on a third-party audio-conferencing provider (ACP).',
    params: [
      IDENTITY,
      { name: 'Name', type: 'string', required: true, help: 'Provider name.' },
      { name: 'TollNumber', type: 'string', required: true, help: 'E.164 toll number.' },
      { name: 'TollFreeNumber', type: 'string', help: 'E.164 toll-free number.' },
      { name: 'ParticipantPasscode', type: 'string', required: true, help: '4 to 16 digits.' },
      { name: 'Url', type: 'string', help: 'Provider\'s page with local numbers.' },
    ],
    examples: ['npx mms Set-CsUserAcp -Identity henriettam@contoso.com -Name Intercall -TollNumber +16465550100 -ParticipantPasscode 8837261'],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      return outcomeResult(await setUserAcp(dir, tenant.id, req(a, 'Identity'), {
        name: req(a, 'Name'), tollNumber: req(a, 'TollNumber'), tollFreeNumber: str(a, 'TollFreeNumber'), participantPasscode: req(a, 'ParticipantPasscode'), url: str(a, 'Url'),
      }));
    },
  },
  {
    name: 'Enable-CsOnlineDialInConferencingUser',
    workerNotice: 'queued',
    area: 'Audio conferencing',
    synopsis: 'Enables Microsoft audio conferencing for one or more users; -ReplaceProvider switches them from a third-party provider.',
    params: [
      { name: 'Identity', type: 'string[]', required: true, position: 0, help: 'One or more users (UPN or SIP address).' },
      { name: 'ReplaceProvider', type: 'switch', help: 'Replace a third-party provider with Microsoft.' },
      SEND_EMAIL_PARAM,
      SEND_EMAIL_TO_ADDRESS_PARAM,
      { ...WHATIF_PARAM, help: `${WHATIF_PARAM.help} Each user gets a row; one who would be refused shows Status Failed and why.` },
    ],
    examples: [
      'npx mms Enable-CsOnlineDialInConferencingUser -Identity irvins@contoso.com -ReplaceProvider',
      'npx mms Enable-CsOnlineDialInConferencingUser -Identity irvins@contoso.com,henriettam@contoso.com -ReplaceProvider -WhatIf',
      'npx mms Enable-CsOnlineDialInConferencingUser -Identity irvins@contoso.com -ReplaceProvider -SendEmail',
      'npx mms Enable-CsOnlineDialInConferencingUser -Identity irvins@contoso.com -SendEmail -SendEmailToAddress helpdesk@contoso.com',
    ],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const whatIf = bool(a, 'WhatIf') ?? false;
      const email = { sendEmail: bool(a, 'SendEmail'), sendEmailToAddress: str(a, 'SendEmailToAddress') };
      const results = await enableDialIn(dir, tenant.id, strs(a, 'Identity') ?? [], bool(a, 'ReplaceProvider') ?? false, whatIf, email);
      const rows = results.map((r) => (r.status === 'Done'
        ? { Identity: r.identity, Status: 'Done', ...(whatIf ? whatIfRow(r.outcome) : { ...outcomeRow(r.outcome), ...(email.sendEmail ? emailQueuedField(r.outcome) : {}) }) }
        : { Identity: r.identity, Status: 'Failed', MeetingMigration: 'None', CorrelationId: '', Reason: r.reason }));
      const failed = results.filter((r) => r.status === 'Failed');
      // A preview reports every user, refusals included (the admin center's confirmation shows them per user).
      if (!whatIf && failed.length === results.length && failed[0]?.status === 'Failed') {
        throw new MmsError('Conflict', failed.length === 1 ? failed[0].reason : `none of the ${failed.length} users was enabled; first: ${failed[0].reason}`);
      }
      return { kind: 'rows', rows, columns: ['Identity', 'Status', 'MeetingMigration', 'CorrelationId', 'Reason'] };
    },
  },
  {
    name: 'Disable-CsOnlineDialInConferencingUser',
    workerNotice: 'queued',
    area: 'Audio conferencing',
    synopsis: 'Disables Microsoft audio conferencing for a user; their meetings lose the dial-in numbers.',
    params: [IDENTITY, WHATIF_PARAM],
    examples: ['npx mms Disable-CsOnlineDialInConferencingUser -Identity adelev@contoso.com', 'npx mms Disable-CsOnlineDialInConferencingUser -Identity adelev@contoso.com -WhatIf'],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const whatIf = bool(a, 'WhatIf') ?? false;
      return outcomeResult(await disableDialIn(dir, tenant.id, req(a, 'Identity'), whatIf), whatIf);
    },
  },
  {
    name: 'Set-CsOnlineDialInConferencingUser',
    workerNotice: 'queued',
    area: 'Audio conferencing',
    synopsis: 'Changes a user\'s bridge, default numbers, conference ID or leader PIN.',
    params: [
      IDENTITY,
      { name: 'BridgeName', type: 'string', help: 'Move the user to this bridge (numbers reset to its defaults unless given).' },
      { name: 'BridgeId', type: 'string', help: 'Move the user to this bridge, by id.' },
      { name: 'ServiceNumber', type: 'string', help: 'Default toll number, one of the bridge\'s (E.164).' },
      { name: 'TollFreeServiceNumber', type: 'string', help: 'Default toll-free number, one of the bridge\'s (E.164).' },
      { name: 'ConferenceId', type: 'string', help: 'A new conference ID (4 to 15 digits, unique in the tenant).' },
      { name: 'ResetConferenceId', type: 'switch', help: 'Give the user a new random conference ID.' },
      { name: 'ResetLeaderPin', type: 'switch', help: 'Give the user a new leader PIN (not in invitations): emailed to the user when AutomaticallySendEmailsToUsers is on or -SendEmail is given; otherwise shown once in this command\'s answer (LeaderPin) for you to pass on. Stored only as a hash.' },
      SEND_EMAIL_PARAM,
      SEND_EMAIL_TO_ADDRESS_PARAM,
      WHATIF_PARAM,
    ],
    examples: [
      'npx mms Set-CsOnlineDialInConferencingUser -Identity meganb@contoso.com -BridgeName "Contoso EU"',
      'npx mms Set-CsOnlineDialInConferencingUser -Identity meganb@contoso.com -BridgeName "Contoso EU" -WhatIf',
      'npx mms Set-CsOnlineDialInConferencingUser -Identity camille.dubois@contoso.com -ResetConferenceId',
      'npx mms Set-CsOnlineDialInConferencingUser -Identity meganb@contoso.com -ResetLeaderPin -SendEmail',
      'npx mms Set-CsOnlineDialInConferencingUser -Identity meganb@contoso.com -SendEmail -SendEmailToAddress megan.personal@fabrikam.com',
    ],
    async run(ctx, a) {
      const { dir, tenant } = await directory(ctx);
      const whatIf = bool(a, 'WhatIf') ?? false;
      const sendEmail = bool(a, 'SendEmail');
      const o = await setDialInUser(dir, tenant.id, req(a, 'Identity'), {
        bridgeName: str(a, 'BridgeName'), bridgeId: str(a, 'BridgeId'), serviceNumber: str(a, 'ServiceNumber'), tollFreeServiceNumber: str(a, 'TollFreeServiceNumber'),
        conferenceId: str(a, 'ConferenceId'), resetConferenceId: bool(a, 'ResetConferenceId'), resetLeaderPin: bool(a, 'ResetLeaderPin'), whatIf,
        sendEmail, sendEmailToAddress: str(a, 'SendEmailToAddress'),
      });
      if (sendEmail && !whatIf) return { kind: 'object', value: { ...outcomeRow(o), ...emailQueuedField(o) } };
      return outcomeResult(o, whatIf);
    },
  },
  {
    name: 'Get-CsOnlineDialInConferencingUser',
    area: 'Audio conferencing',
    synopsis: 'Shows users\' audio-conferencing information (never the PIN); -ReadyToMove lists licensed users still on a third-party provider.',
    params: [
      { name: 'Identity', type: 'string', position: 0, help: 'Only this user.' },
      { name: 'ReadyToMove', type: 'switch', help: 'Only users holding the licence while still on a third-party provider.' },
    ],
    examples: ['npx mms Get-CsOnlineDialInConferencingUser -ReadyToMove', 'npx mms Get-CsOnlineDialInConferencingUser irvins@contoso.com --json'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const rows = await dialInUsers(ctx.db, tenant, { identity: str(a, 'Identity'), readyToMove: bool(a, 'ReadyToMove') });
      if (str(a, 'Identity') && rows[0]) return { kind: 'object', value: rows[0] };
      return { kind: 'rows', rows, columns: ['Identity', 'DisplayName', 'HostedOn', 'Provider', 'AudioConferencingEnabled', 'BridgeName', 'ServiceNumber', 'TollFreeServiceNumber', 'ConferenceId'] };
    },
  },
  {
    name: 'Get-MmsAuditLog',
    area: 'Users',
    synopsis: 'Shows who (Actor) changed what (Changes, bridges by name), what MMS decided and why (answers "why did nothing happen?").',
    params: [
      { name: 'Identity', type: 'string', position: 0, help: 'Only rows about this user.' },
      { name: 'Actor', type: 'string', help: 'Only changes made by this actor, as the Actor column shows it (web:admin, api:ci; any case).' },
      { name: 'StartTime', type: 'datetime', help: 'From this time (ISO 8601 or M/D/YYYY).' },
      { name: 'EndTime', type: 'datetime', help: 'Up to this time; a date alone includes that whole day.' },
      ...PAGING_PARAMS,
    ],
    examples: ['npx mms Get-MmsAuditLog -Identity lidiah@contoso.com', 'npx mms Get-MmsAuditLog -StartTime "10/1/2026" --json', 'npx mms Get-MmsAuditLog -Actor web:admin', 'npx mms Get-MmsAuditLog -First 50 -Skip 50'],
    async run(ctx, a) {
      const { tenant } = await directory(ctx);
      const { rows, total } = await auditLogPage(ctx.db, tenant, { identity: str(a, 'Identity'), actor: str(a, 'Actor'), start: num(a, 'StartTime'), end: num(a, 'EndTime'), ...pageArgs(a) });
      // Changes is one line (bridges by name); --json adds ChangeSet, the same as field → { Old, New }.
      return { kind: 'rows', rows, page: { total, skip: pageArgs(a).skip }, columns: ['Time', 'Actor', 'Cmdlet', 'Target', 'Changes', 'Decision', 'Reason'] };
    },
  },
];

function checkLicense(param: string, value: string): License {
  const hit = LICENSES.find((l) => l.toLowerCase() === value.trim().toLowerCase());
  if (!hit) throw usageError(`${param} '${value}' is not a licence MMS knows: use ${LICENSES.join(', ')}`);
  return hit;
}
