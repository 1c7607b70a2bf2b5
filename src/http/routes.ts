// Which REST resource each cmdlet is (issue 10 §1): same names and fields as the command line, so a script moves
// from `mms Set-CsOnlineDialInConferencingUser -Identity x -ConferenceId 1234567` to
// `PATCH /api/v1/dial-in-users/x {"ConferenceId":"1234567"}` with nothing to relearn. Reads are GET with the
// parameters in the query string; changes take a JSON body (a file parameter's content travels as the body or the
// answer instead, in its own media type: `file`); a cmdlet's Identity (or Name, CorrelationId) that names
// one resource is a path segment. Roles (issue 10 §2): ReadOnly reads; Operator also runs and retries migrations;
// TenantAdmin changes everything inside its tenant; ServiceAdmin manages tenants and the deployment.

/** What a token may do; each role may do everything the ones before it may. */
export const ROLES = ['ReadOnly', 'Operator', 'TenantAdmin', 'ServiceAdmin'] as const;
export type Role = (typeof ROLES)[number];

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface CmdletRoute {
  readonly method: Method;
  /** Fastify path; `:Name` segments are parameters of the cmdlet. */
  readonly url: string;
  /** The least role that may call it. */
  readonly role: Role;
  /** Parameters the API does not take: server file paths (a remote caller must never name files on the server) and -Wait (the CLI polls instead). */
  readonly omit?: readonly string[];
  /**
   * A file parameter whose content travels in the request instead of naming a file: `body` — the request body is
   * the file (in `mediaType`); `answer` — the answer is the file. The parameter's path stays on the caller's machine:
   * the route does not take it (it is in `omit` too), and a remote mms reads or writes it there (cli/remote.ts).
   */
  readonly file?: FileRoute;
}

export interface FileRoute {
  readonly param: string;
  readonly direction: 'body' | 'answer';
  readonly mediaType: string;
  /** What the file is, in messages: "the .ics file". */
  readonly what: string;
  /** The largest body the route takes (direction `body`), in bytes. */
  readonly limit?: number;
}

/**
 * The largest calendar a request may carry. A year of a busy mailbox is a few MB; the whole body is held in memory
 * while it is decoded, so larger files are imported in parts or on the server (mms Import-MmsCalendar -Path).
 */
export const CALENDAR_BODY_LIMIT = 25 * 1024 * 1024;

const ID = ':Identity';

/** Cmdlet name → route. Cmdlets not here are listed in NOT_ON_THE_API with the reason. */
export const CMDLET_ROUTES: Readonly<Record<string, CmdletRoute>> = {
  'New-MmsTenant': { method: 'POST', url: '/api/v1/tenants', role: 'ServiceAdmin' },
  'Initialize-MmsDemo': { method: 'POST', url: '/api/v1/demo', role: 'ServiceAdmin' },
  'New-MmsBridge': { method: 'POST', url: '/api/v1/bridges', role: 'TenantAdmin' },
  'Get-CsOnlineDialInConferencingBridge': { method: 'GET', url: '/api/v1/bridges', role: 'ReadOnly' },
  'Unregister-CsOnlineDialInConferencingServiceNumber': { method: 'DELETE', url: `/api/v1/service-numbers/${ID}`, role: 'TenantAdmin' },
  'Get-CsTenantMigrationConfiguration': { method: 'GET', url: '/api/v1/migration-configuration', role: 'ReadOnly' },
  'Set-CsTenantMigrationConfiguration': { method: 'PATCH', url: '/api/v1/migration-configuration', role: 'TenantAdmin' },
  'Get-CsOnlineDialInConferencingTenantSettings': { method: 'GET', url: '/api/v1/dial-in-settings', role: 'ReadOnly' },
  'Set-CsOnlineDialInConferencingTenantSettings': { method: 'PATCH', url: '/api/v1/dial-in-settings', role: 'TenantAdmin' },
  'Update-CsTenantMeetingUrl': { method: 'POST', url: '/api/v1/meeting-url', role: 'TenantAdmin' },
  'New-MmsUser': { method: 'POST', url: '/api/v1/users', role: 'TenantAdmin' },
  'Set-CsUser': { method: 'PATCH', url: `/api/v1/users/${ID}`, role: 'TenantAdmin' },
  'Move-CsUser': { method: 'POST', url: `/api/v1/users/${ID}/move`, role: 'TenantAdmin' },
  // Teams upgrade (issue 12): a user's grant is on the user; -Global (no Identity) on the tenant's policy.
  'Grant-CsTeamsUpgradePolicy': { method: 'POST', url: '/api/v1/teams-upgrade-policy/grant', role: 'TenantAdmin' },
  'Get-CsTeamsUpgradePolicy': { method: 'GET', url: '/api/v1/teams-upgrade-policies', role: 'ReadOnly' },
  'Get-CsOnlineUser': { method: 'GET', url: '/api/v1/online-users', role: 'ReadOnly' },
  'Set-MmsUserLicense': { method: 'PATCH', url: `/api/v1/users/${ID}/licenses`, role: 'TenantAdmin' },
  'Set-CsUserAcp': { method: 'PUT', url: `/api/v1/users/${ID}/acp`, role: 'TenantAdmin' },
  'Get-CsOnlineDialInConferencingUser': { method: 'GET', url: '/api/v1/dial-in-users', role: 'ReadOnly' },
  'Set-CsOnlineDialInConferencingUser': { method: 'PATCH', url: `/api/v1/dial-in-users/${ID}`, role: 'TenantAdmin' },
  'Enable-CsOnlineDialInConferencingUser': { method: 'POST', url: '/api/v1/dial-in-users/enable', role: 'TenantAdmin' },
  'Disable-CsOnlineDialInConferencingUser': { method: 'POST', url: `/api/v1/dial-in-users/${ID}/disable`, role: 'TenantAdmin' },
  'Get-MmsAuditLog': { method: 'GET', url: '/api/v1/audit-log', role: 'ReadOnly' },
  'New-MmsMeeting': { method: 'POST', url: '/api/v1/meetings', role: 'TenantAdmin' },
  // The mailbox as one .ics: the request body in (objects are added or replaced by UID, the others stay: POST), the
  // answer out. Byte for byte as the command line's -Path file.
  'Import-MmsCalendar': { method: 'POST', url: `/api/v1/users/${ID}/calendar`, role: 'TenantAdmin', omit: ['Path'], file: { param: 'Path', direction: 'body', mediaType: 'text/calendar', what: 'the .ics file', limit: CALENDAR_BODY_LIMIT } },
  'Export-MmsCalendar': { method: 'GET', url: `/api/v1/users/${ID}/calendar`, role: 'ReadOnly', omit: ['Path'], file: { param: 'Path', direction: 'answer', mediaType: 'text/calendar', what: 'the .ics file' } },
  'Get-MmsMeeting': { method: 'GET', url: `/api/v1/users/${ID}/meetings`, role: 'ReadOnly' },
  'Get-CsMeetingMigrationStatus': { method: 'GET', url: '/api/v1/migrations', role: 'ReadOnly' },
  'Get-CsMeetingMigrationTransactionHistory': { method: 'GET', url: `/api/v1/users/${ID}/migration-history`, role: 'ReadOnly' },
  'Get-MmsMigrationRate': { method: 'GET', url: '/api/v1/migration-rate', role: 'ReadOnly' },
  'Start-CsExMeetingMigration': { method: 'POST', url: '/api/v1/migrations', role: 'Operator', omit: ['Wait'] },
  'Undo-MmsMeetingMigration': { method: 'POST', url: '/api/v1/migrations/:CorrelationId/undo', role: 'Operator' },
  'Get-MmsOutbox': { method: 'GET', url: '/api/v1/outbox', role: 'ReadOnly' },
  'Send-MmsOutbox': { method: 'POST', url: '/api/v1/outbox/send', role: 'Operator' },
  // A host's URL is where the service connects: only the deployment's admin points it at addresses (a TenantAdmin
  // could otherwise probe the service's own network).
  'New-MmsMailboxHost': { method: 'POST', url: '/api/v1/mailbox-hosts', role: 'ServiceAdmin', omit: ['PasswordFile'] },
  'Get-MmsMailboxHost': { method: 'GET', url: '/api/v1/mailbox-hosts', role: 'ReadOnly' },
  'Set-MmsMailboxHost': { method: 'PATCH', url: '/api/v1/mailbox-hosts/:Name', role: 'ServiceAdmin', omit: ['PasswordFile'] },
  'Remove-MmsMailboxHost': { method: 'DELETE', url: '/api/v1/mailbox-hosts/:Name', role: 'ServiceAdmin' },
  'Test-MmsMailboxHost': { method: 'POST', url: '/api/v1/mailbox-hosts/:Name/test', role: 'Operator' },
  'Set-MmsUserMailbox': { method: 'PUT', url: `/api/v1/users/${ID}/mailbox`, role: 'TenantAdmin', omit: ['PasswordFile'] },
  'Get-MmsUserMailbox': { method: 'GET', url: `/api/v1/users/${ID}/mailbox`, role: 'ReadOnly' },
  'New-MmsApiToken': { method: 'POST', url: '/api/v1/api-tokens', role: 'TenantAdmin' },
  'Get-MmsApiToken': { method: 'GET', url: '/api/v1/api-tokens', role: 'TenantAdmin' },
  'Revoke-MmsApiToken': { method: 'DELETE', url: '/api/v1/api-tokens/:Name', role: 'TenantAdmin' },
  // Admin accounts: a TenantAdmin manages its own tenant's (never a role above its own: app.ts checks -Role).
  // Account names are one namespace for the whole deployment (sign-in asks no tenant): a TenantAdmin creating them
  // would learn from a refusal which names other tenants use. Until names are scoped to a tenant's domains, only
  // the deployment's admin creates accounts over REST (and anyone with the server's command line).
  'New-MmsAdmin': { method: 'POST', url: '/api/v1/admins', role: 'ServiceAdmin' },
  'Get-MmsAdmin': { method: 'GET', url: '/api/v1/admins', role: 'TenantAdmin' },
  'Remove-MmsAdmin': { method: 'DELETE', url: '/api/v1/admins/:UserName', role: 'TenantAdmin' },
  // Client telemetry switches (issue 11 §3); the clients themselves post to /telemetry/v1 with the ingestion key.
  'Get-MmsTelemetryConfiguration': { method: 'GET', url: '/api/v1/telemetry-configuration', role: 'ReadOnly' },
  'Set-MmsTelemetryConfiguration': { method: 'PATCH', url: '/api/v1/telemetry-configuration', role: 'TenantAdmin' },
  'New-MmsTelemetryIngestionKey': { method: 'POST', url: '/api/v1/telemetry-configuration/ingestion-key', role: 'TenantAdmin' },
  'Get-CsWebServiceConfiguration': { method: 'GET', url: '/api/v1/web-service-configuration', role: 'ReadOnly' },
  'Set-CsWebServiceConfiguration': { method: 'PATCH', url: `/api/v1/web-service-configuration/${ID}`, role: 'TenantAdmin' },
  // The user id goes in the query or body, not the path: the request log names paths, and telemetry choices must not
  // leave a list of user ids there.
  'Get-MmsUserTelemetry': { method: 'GET', url: '/api/v1/user-telemetry', role: 'ReadOnly' },
  'Set-MmsUserTelemetry': { method: 'PATCH', url: '/api/v1/user-telemetry', role: 'TenantAdmin' },
  'Get-MmsTelemetryReport': { method: 'GET', url: '/api/v1/telemetry-report', role: 'ReadOnly' },
};

/** Cmdlets with no REST route yet, and why (the route table test holds every cmdlet to one of the two lists). */
export const NOT_ON_THE_API: Readonly<Record<string, string>> = {
  'Invoke-MmsMeetingMigrationTool': 'works on files and CalDAV servers from the admin\'s machine, not the service\'s',
};

/** Whether `role` may call a route that needs `needed`. */
export function allows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
