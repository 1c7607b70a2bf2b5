// Local admin accounts for the web admin center (issue 10 §2): create one (it prints a one-time sign-in link where
// the admin sets the password), list, remove. Passwords are never given on the command line.
import { resolveTenant } from '../../directory/index.js';
import { adminRows, createAdmin, publicBase, removeAdminNamed, SETUP_LINK_HOURS, setupLink } from '../../http/admin-accounts.js';
import { ROLES, type Role } from '../../http/routes.js';
import type { Cmdlet } from '../cmdlet.js';
import { namedTenantId, req } from './shared.js';

export const ADMIN_ACCOUNT_CMDLETS: Cmdlet[] = [
  {
    name: 'New-MmsAdmin',
    area: 'REST API access',
    synopsis: `Creates an admin account for the web admin center and prints a one-time sign-in link (valid ${SETUP_LINK_HOURS} h) where the admin sets the password.`,
    params: [
      { name: 'UserName', type: 'string', required: true, position: 0, help: 'The name the admin signs in with (unique), e.g. megan or megan@contoso.com; the audit log names changes made in the pages web:<UserName>.' },
      { name: 'Role', type: 'enum', required: true, values: ROLES, help: 'ReadOnly reads; Operator also starts, retries and undoes migrations; TenantAdmin changes everything in its tenant; ServiceAdmin manages tenants (no -Tenant).' },
    ],
    examples: ['npx mms New-MmsAdmin -UserName megan -Role TenantAdmin -Tenant Contoso', 'npx mms New-MmsAdmin -UserName ops -Role ServiceAdmin'],
    async run(ctx, a) {
      // An enum parameter: the command line and the REST binder have checked it against ROLES already.
      const role = req(a, 'Role') as Role;
      const tenant = role === 'ServiceAdmin' ? null : await resolveTenant(ctx.db, ctx.tenant);
      const { row, code } = await createAdmin(ctx.db, { userName: req(a, 'UserName'), role, tenant, actor: ctx.actor, now: ctx.now() });
      return {
        kind: 'object',
        value: {
          UserName: row.user_name, Role: row.role, Tenant: tenant?.name ?? '(all)', SignInLinkExpiresAt: row.setup_expires_at,
          SignInLink: setupLink(publicBase(ctx.config), code),
          Note: `Give the link to ${row.user_name} now: it is not shown again, works once, and sets the password. Expired? Remove-MmsAdmin and New-MmsAdmin again.`,
        },
      };
    },
  },
  {
    name: 'Get-MmsAdmin',
    area: 'REST API access',
    synopsis: 'Lists admin accounts: user name, role, tenant, state (WaitingForPassword, LinkExpired, Active) and last sign-in.',
    params: [],
    examples: ['npx mms Get-MmsAdmin', 'npx mms Get-MmsAdmin -Tenant Contoso'],
    async run(ctx) {
      // Without -Tenant (and MMS_TENANT) every account, ServiceAdmins included; with it, that tenant's.
      const tenantId = await namedTenantId(ctx);
      return { kind: 'rows', rows: await adminRows(ctx.db, tenantId, ctx.now()), columns: ['UserName', 'Role', 'Tenant', 'State', 'LastSignInAt'] };
    },
  },
  {
    name: 'Remove-MmsAdmin',
    area: 'REST API access',
    synopsis: 'Removes an admin account; its sessions end at once.',
    params: [{ name: 'UserName', type: 'string', required: true, position: 0, help: 'The account\'s user name (Get-MmsAdmin lists them).' }],
    examples: ['npx mms Remove-MmsAdmin -UserName megan'],
    async run(ctx, a) {
      const tenantId = await namedTenantId(ctx);
      const row = await removeAdminNamed(ctx.db, req(a, 'UserName'), { tenantId }, ctx.actor, ctx.now());
      return { kind: 'message', text: `removed the admin account '${row.user_name}' (${row.role}); its sessions have ended` };
    },
  },
];
