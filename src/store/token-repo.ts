// The api_tokens table (migration 012): what src/http/api-tokens.ts reads and writes.
import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { ApiTokenTable } from './schema.js';

export type ApiTokenRow = Selectable<ApiTokenTable>;

export async function apiTokenById(db: Db, id: string): Promise<ApiTokenRow | undefined> {
  return db.kysely.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The scope a token's name is unique in: its tenant, or `*` for ServiceAdmin tokens (no tenant). */
export const tokenScope = (tenantId: string | null): string => tenantId ?? '*';

/** Tokens named `name` in one scope (at most one), or in every scope (`scope` undefined: several tenants may use a name). */
export async function apiTokensByName(db: Db, name: string, scope?: string): Promise<ApiTokenRow[]> {
  let q = db.kysely.selectFrom('api_tokens').selectAll().where('name_key', '=', name.trim().toLowerCase());
  if (scope !== undefined) q = q.where('scope', '=', scope);
  return q.execute();
}

/** Tokens of one tenant (`tenantId`), or every token (undefined), oldest first. */
export async function listApiTokens(db: Db, tenantId: string | undefined): Promise<ApiTokenRow[]> {
  let q = db.kysely.selectFrom('api_tokens').selectAll();
  if (tenantId !== undefined) q = q.where('tenant_id', '=', tenantId);
  return q.orderBy('created_at').orderBy('name_key').execute();
}

export async function revokeApiToken(db: Db, id: string, at: number): Promise<void> {
  await db.kysely.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

/** Revokes the tokens `actor` created that are still active (an account removed takes its tokens with it); how many. */
export async function revokeApiTokensCreatedBy(db: Db, actor: string, at: number): Promise<number> {
  const r = await db.kysely.updateTable('api_tokens').set({ revoked_at: at }).where('created_by', '=', actor).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows ?? 0);
}

/** Records a use; callers throttle it (one write a minute per token at most) so reads stay reads. */
export async function touchApiToken(db: Db, id: string, at: number): Promise<void> {
  await db.kysely.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}
