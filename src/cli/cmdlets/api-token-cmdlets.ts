// REST API tokens (issue 10 §2): create one for a script or the remote `mms` (MMS_SERVER_URL + MMS_TOKEN), list,
// revoke. The token is printed once, by New-MmsApiToken; MMS keeps only a hash of it.
import { resolveTenant } from '../../directory/index.js';
import { apiTokenRows, createApiToken, DEFAULT_TOKEN_LIFETIME_DAYS, parseExpiresIn, revokeApiTokenNamed } from '../../http/api-tokens.js';
import { ROLES, type Role } from '../../http/routes.js';
import type { Cmdlet } from '../cmdlet.js';
import { namedTenantId, req, str } from './shared.js';

export const API_TOKEN_CMDLETS: Cmdlet[] = [
  {
    name: 'New-MmsApiToken',
    area: 'REST API access',
    synopsis: 'Creates a REST API token with a role and prints it once (only a hash is kept).',
    params: [
      { name: 'Name', type: 'string', required: true, position: 0, help: 'A name that says who uses it (unique), e.g. ci-pipeline; the audit log names changes made with it by this name.' },
      { name: 'Role', type: 'enum', required: true, values: ROLES, help: 'ReadOnly reads; Operator also starts, retries and undoes migrations; TenantAdmin changes everything in its tenant; ServiceAdmin manages tenants (no -Tenant).' },
      { name: 'ExpiresIn', type: 'string', help: `Lifetime: 90d, 12h, 30m or never (default ${DEFAULT_TOKEN_LIFETIME_DAYS}d).` },
    ],
    examples: ['npx mms New-MmsApiToken -Name ops-dashboard -Role ReadOnly', 'npx mms New-MmsApiToken -Name helpdesk -Role Operator -ExpiresIn 30d', 'npx mms New-MmsApiToken -Name platform -Role ServiceAdmin -ExpiresIn never'],
    async run(ctx, a) {
      // An enum parameter: the command line and the REST binder have checked it against ROLES already.
      const role = req(a, 'Role') as Role;
      const lifetimeMs = parseExpiresIn(str(a, 'ExpiresIn'));
      const tenant = role === 'ServiceAdmin' ? null : await resolveTenant(ctx.db, ctx.tenant);
      const { row, token } = await createApiToken(ctx.db, { name: req(a, 'Name'), role, tenant, lifetimeMs, actor: ctx.actor, now: ctx.now() });
      return {
        kind: 'object',
        value: { Name: row.name, Role: row.role, Tenant: tenant?.name ?? '(all)', ExpiresAt: row.expires_at, Token: token, Note: 'Copy the token now: it is not shown again. Use it as Authorization: Bearer <token>, or MMS_TOKEN for a remote mms.' },
      };
    },
  },
  {
    name: 'Get-MmsApiToken',
    area: 'REST API access',
    synopsis: 'Lists REST API tokens: name, role, tenant, state, expiry and last use (never the token).',
    params: [],
    examples: ['npx mms Get-MmsApiToken', 'npx mms Get-MmsApiToken -Tenant Contoso'],
    async run(ctx) {
      // Without -Tenant (and MMS_TENANT) every token, ServiceAdmin ones included; with it, that tenant's.
      const tenantId = await namedTenantId(ctx);
      return { kind: 'rows', rows: await apiTokenRows(ctx.db, tenantId, ctx.now()), columns: ['Name', 'Role', 'Tenant', 'State', 'ExpiresAt', 'LastUsedAt'] };
    },
  },
  {
    name: 'Revoke-MmsApiToken',
    area: 'REST API access',
    synopsis: 'Revokes a REST API token: requests with it are refused from then on.',
    params: [{ name: 'Name', type: 'string', required: true, position: 0, help: 'The token\'s name (Get-MmsApiToken lists them).' }],
    examples: ['npx mms Revoke-MmsApiToken -Name ops-dashboard'],
    async run(ctx, a) {
      const tenantId = await namedTenantId(ctx);
      const row = await revokeApiTokenNamed(ctx.db, req(a, 'Name'), tenantId, ctx.actor, ctx.now());
      return { kind: 'message', text: `revoked the API token '${row.name}' (${row.role}); requests with it are refused from now on` };
    },
  },
];
