// REST API tokens (issue 10 §2): `mms_<id>_<secret>`, printed once by New-MmsApiToken; only the SHA-256 of the
// secret is kept (see migration 012 for why not a password hash). The id part finds the row without a scan;
// comparing hashes in constant time keeps a guessed id from telling anything.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Tenant } from '../domain/directory.js';
import { conflict, notFound, usageError } from '../domain/errors.js';
import type { Db } from '../store/index.js';
import { insertAudit } from '../store/audit-repo.js';
import { apiTokenById, apiTokensByName, listApiTokens, revokeApiToken, tokenScope, type ApiTokenRow } from '../store/token-repo.js';
import type { Role } from './routes.js';

/** Who a request acts as: the token's name (the audit log's actor), its role, and its tenant (none: every tenant). */
export interface Principal {
  readonly tokenId: string;
  readonly name: string;
  readonly role: Role;
  readonly tenantId: string | null;
}

const TOKEN = /^mms_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const DAY = 86_400_000;
/** New tokens expire after this unless -ExpiresIn says otherwise: a forgotten token stops working by itself. */
export const DEFAULT_TOKEN_LIFETIME_DAYS = 90;
const MAX_DAYS = 3650;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** -ExpiresIn: `90d`, `12h`, `30m` or `never`; undefined means the default. Returns ms, or null for never. */
export function parseExpiresIn(text: string | undefined): number | null {
  if (text === undefined) return DEFAULT_TOKEN_LIFETIME_DAYS * DAY;
  const v = text.trim().toLowerCase();
  if (v === 'never') return null;
  const m = /^(\d+)\s*(d|h|m)$/.exec(v);
  const ms = m ? Number(m[1]) * { d: DAY, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'] : NaN;
  if (!(ms > 0) || ms > MAX_DAYS * DAY) {
    throw usageError(`-ExpiresIn ${JSON.stringify(text)} is not a lifetime: give days, hours or minutes such as 90d, 12h or 30m (at most ${MAX_DAYS}d), or never`);
  }
  return ms;
}

export interface NewToken {
  readonly name: string;
  readonly role: Role;
  /** The tenant the token is limited to; null only for ServiceAdmin. */
  readonly tenant: Tenant | null;
  readonly lifetimeMs: number | null;
  readonly actor: string;
  readonly now: number;
}

/** Creates a token and returns its row and the token text, which exists nowhere else afterwards. */
export async function createApiToken(db: Db, t: NewToken): Promise<{ row: ApiTokenRow; token: string }> {
  const name = t.name.trim();
  if (!name || name.length > 100) throw usageError('-Name must be 1 to 100 characters, e.g. -Name ci-pipeline');
  if (t.role === 'ServiceAdmin' && t.tenant) throw usageError('a ServiceAdmin token acts on every tenant: leave out -Tenant (or give a TenantAdmin role for one tenant)');
  if (t.role !== 'ServiceAdmin' && !t.tenant) throw usageError(`a ${t.role} token belongs to one tenant: give -Tenant`);
  if ((await apiTokensByName(db, name, tokenScope(t.tenant?.id ?? null))).length) throw conflict(`a token named '${name}' exists already: pick another -Name, or Revoke-MmsApiToken -Name '${name}' first`);
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const row: ApiTokenRow = {
    id, name, name_key: name.toLowerCase(), scope: tokenScope(t.tenant?.id ?? null), role: t.role, tenant_id: t.tenant?.id ?? null, secret_sha256: sha256(secret),
    created_by: t.actor, created_at: t.now, expires_at: t.lifetimeMs === null ? null : t.now + t.lifetimeMs, revoked_at: null, last_used_at: null,
  };
  await db.kysely.transaction().execute(async (tx) => {
    await tx.insertInto('api_tokens').values(row).execute();
    if (t.tenant) {
      await insertAudit(tx, {
        tenantId: t.tenant.id, at: t.now, actor: t.actor, cmdlet: 'New-MmsApiToken', userId: null, target: name,
        changes: { Role: [null, t.role] }, decision: 'None', reason: 'API token created (the token itself is not kept)', correlationId: null,
      });
    }
  });
  return { row, token: `mms_${id}_${secret}` };
}

/** Why a presented token is not accepted, in words for the 401 answer; or its principal. */
export async function verifyApiToken(db: Db, text: string, now: number): Promise<Principal | { refused: string }> {
  const m = TOKEN.exec(text.trim());
  if (!m) return { refused: 'the token is not an MMS API token (mms_… as New-MmsApiToken printed it)' };
  const row = await apiTokenById(db, m[1]!);
  const given = Buffer.from(sha256(m[2]!), 'hex');
  if (!row || !timingSafeEqual(given, Buffer.from(row.secret_sha256, 'hex'))) return { refused: 'the token is not known: create one with New-MmsApiToken' };
  if (row.revoked_at !== null) return { refused: `the token '${row.name}' was revoked: create a new one with New-MmsApiToken` };
  if (row.expires_at !== null && row.expires_at <= now) return { refused: `the token '${row.name}' expired on ${new Date(row.expires_at).toISOString()}: create a new one with New-MmsApiToken` };
  return { tokenId: row.id, name: row.name, role: row.role as Role, tenantId: row.tenant_id };
}

/** Tokens as Get-MmsApiToken shows them: never the secret or its hash. */
export async function apiTokenRows(db: Db, tenantId: string | undefined, now: number): Promise<Record<string, unknown>[]> {
  return (await listApiTokens(db, tenantId)).map((r) => ({
    Name: r.name, Role: r.role, Tenant: r.tenant_id ?? '(all)',
    State: r.revoked_at !== null ? 'Revoked' : r.expires_at !== null && r.expires_at <= now ? 'Expired' : 'Active',
    CreatedBy: r.created_by, CreateDate: r.created_at, ExpiresAt: r.expires_at, LastUsedAt: r.last_used_at,
  }));
}

/**
 * Revokes a token by name: the tenant's (`tenantId`), or, without one (the server's command line, a ServiceAdmin),
 * the only token of that name — names are unique per tenant, so two tenants may both have one: then -Tenant says which.
 */
export async function revokeApiTokenNamed(db: Db, name: string, tenantId: string | undefined, actor: string, now: number): Promise<ApiTokenRow> {
  const rows = await apiTokensByName(db, name, tenantId);
  if (rows.length > 1) throw usageError(`${rows.length} tenants have a token named '${name}': give -Tenant (Get-MmsApiToken lists them with their tenant)`);
  const row = rows[0];
  if (!row) throw notFound(`no API token named '${name}'; Get-MmsApiToken lists them`);
  await revokeApiToken(db, row.id, now);
  if (row.tenant_id) {
    await insertAudit(db.kysely, {
      tenantId: row.tenant_id, at: now, actor, cmdlet: 'Revoke-MmsApiToken', userId: null, target: row.name,
      changes: { State: ['Active', 'Revoked'] }, decision: 'None', reason: 'API token revoked: requests with it are refused from now on', correlationId: null,
    });
  }
  return row;
}
