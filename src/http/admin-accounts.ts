// Local admin accounts for the web admin center (issue 10 §2). New-MmsAdmin creates one without a password and
// prints a one-time sign-in link; the admin sets the password there (src/http/web-signin.ts). The link's code is
// 256 random bits kept only as a SHA-256, valid SETUP_LINK_HOURS, and used up by the first password set with it.
import { createHash, randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { Tenant } from '../domain/directory.js';
import { conflict, notFound, usageError } from '../domain/errors.js';
import type { Db } from '../store/index.js';
import { insertAudit } from '../store/audit-repo.js';
import { listTenants } from '../store/directory-repo.js';
import { adminByName, countAdmins, deleteAdmin, insertAdmin, listAdmins, type AdminAccountRow } from '../store/admin-repo.js';
import { revokeApiTokensCreatedBy } from '../store/token-repo.js';
import type { Role } from './routes.js';

export const SETUP_LINK_HOURS = 24;
const HOUR = 3_600_000;
/** The account `mms serve` creates on first start (a ServiceAdmin). */
export const FIRST_ADMIN = 'admin';

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * Where links point: MMS_PUBLIC_URL when set (the address admins use, behind a proxy), else MMS_HTTP_ADDRESS as
 * http://host:port (a wildcard host becomes localhost), else the server that is actually listening (`listening`).
 */
export function publicBase(config: Config, listening?: string): string {
  if (config.publicUrl) return config.publicUrl;
  if (listening) return listening;
  if (!config.http) return 'http://127.0.0.1:8080';
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? 'localhost' : config.http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
}

export interface NewAdmin {
  readonly userName: string;
  readonly role: Role;
  /** The tenant the account belongs to; null only for ServiceAdmin. */
  readonly tenant: Tenant | null;
  readonly actor: string;
  readonly now: number;
}

/** Creates an account without a password and returns it with the set-up code (which exists nowhere else afterwards). */
export async function createAdmin(db: Db, a: NewAdmin): Promise<{ row: AdminAccountRow; code: string }> {
  const userName = a.userName.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/.test(userName)) throw usageError('-UserName must be 1 to 100 letters, digits, . _ @ or -, e.g. -UserName megan or -UserName megan@contoso.com');
  if (a.role === 'ServiceAdmin' && a.tenant) throw usageError('a ServiceAdmin account acts on every tenant: leave out -Tenant (or give TenantAdmin for one tenant)');
  if (a.role !== 'ServiceAdmin' && !a.tenant) throw usageError(`a ${a.role} account belongs to one tenant: give -Tenant`);
  if (await adminByName(db, userName)) throw conflict(`an admin account named '${userName}' exists already: pick another -UserName, or Remove-MmsAdmin -UserName '${userName}' first`);
  const code = randomBytes(32).toString('base64url');
  const row: AdminAccountRow = {
    id: randomBytes(8).toString('hex'), user_name: userName, user_name_key: userName.toLowerCase(), role: a.role, tenant_id: a.tenant?.id ?? null,
    password_hash: null, setup_code_sha256: sha256(code), setup_expires_at: a.now + SETUP_LINK_HOURS * HOUR, created_by: a.actor, created_at: a.now, last_sign_in_at: null,
  };
  await insertAdmin(db, row);
  if (a.tenant) {
    await insertAudit(db.kysely, {
      tenantId: a.tenant.id, at: a.now, actor: a.actor, cmdlet: 'New-MmsAdmin', userId: null, target: userName,
      changes: { Role: [null, a.role] }, decision: 'None', reason: 'admin account created; the password is set from the one-time sign-in link', correlationId: null,
    });
  }
  return { row, code };
}

export function setupLink(base: string, code: string): string {
  return `${base.replace(/\/+$/, '')}/signin/setup?code=${code}`;
}

/** Accounts as Get-MmsAdmin shows them: never a hash. */
export async function adminRows(db: Db, tenantId: string | undefined, now: number): Promise<Record<string, unknown>[]> {
  const names = new Map((await listTenants(db.kysely)).map((t) => [t.id, t.name]));
  return (await listAdmins(db, tenantId)).map((r) => ({
    UserName: r.user_name, Role: r.role, Tenant: r.tenant_id === null ? '(all)' : names.get(r.tenant_id) ?? r.tenant_id,
    State: r.password_hash !== null ? 'Active' : r.setup_expires_at !== null && r.setup_expires_at > now ? 'WaitingForPassword' : 'LinkExpired',
    CreatedBy: r.created_by, CreateDate: r.created_at, LastSignInAt: r.last_sign_in_at,
  }));
}

/**
 * Removes an account by name and ends its sessions. `tenantId` (when set) must be the account's tenant, else it is
 * answered as "no such account". No role check is needed beside it: a tenant's accounts are at most TenantAdmin, and
 * REST holds every caller below ServiceAdmin to its own tenant (run-as.ts).
 */
export async function removeAdminNamed(db: Db, userName: string, scope: { tenantId?: string }, actor: string, now: number): Promise<AdminAccountRow> {
  const row = await adminByName(db, userName);
  const hidden = !row || (scope.tenantId !== undefined && row.tenant_id !== scope.tenantId);
  if (hidden) throw notFound(`no admin account named '${userName}'; Get-MmsAdmin lists them`);
  await deleteAdmin(db, row.id);
  // Tokens the account made in the pages (created by web:<name>) would outlive it: they go with it.
  const tokens = await revokeApiTokensCreatedBy(db, `web:${row.user_name}`, now);
  if (row.tenant_id) {
    await insertAudit(db.kysely, {
      tenantId: row.tenant_id, at: now, actor, cmdlet: 'Remove-MmsAdmin', userId: null, target: row.user_name,
      changes: { Role: [row.role, null], ...(tokens ? { ApiTokensRevoked: [null, tokens] } : {}) }, decision: 'None',
      reason: `admin account removed; its sessions ended${tokens ? ` and the ${tokens} API token(s) it created were revoked` : ''}`, correlationId: null,
    });
  }
  return row;
}

/**
 * First start (`mms serve` with the HTTP server on): when no admin account exists, creates the ServiceAdmin `admin`
 * and returns the lines to print once with its sign-in link; undefined when there are accounts already.
 */
export async function firstAdminNotice(db: Db, config: Config, listening: string, now: number): Promise<string | undefined> {
  if ((await countAdmins(db)) > 0) return undefined;
  let code: string;
  try {
    ({ code } = await createAdmin(db, { userName: FIRST_ADMIN, role: 'ServiceAdmin', tenant: null, actor: 'mms serve (first start)', now }));
  } catch (err) {
    // Two `mms serve` starting together on a new database: the other one created it (and prints its link).
    if ((await countAdmins(db)) > 0) return undefined;
    throw err;
  }
  return [
    `First start: created the admin account '${FIRST_ADMIN}' (ServiceAdmin). Set its password within ${SETUP_LINK_HOURS} h, once, at:`,
    `  ${setupLink(publicBase(config, listening), code)}`,
    'This link is not shown again; New-MmsAdmin creates further accounts.',
  ].join('\n');
}
