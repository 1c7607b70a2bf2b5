// The admin_accounts and web_sessions tables (migration 013): what src/http/admin-accounts.ts and sessions.ts use.
import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { AdminAccountTable, WebSessionTable } from './schema.js';

export type AdminAccountRow = Selectable<AdminAccountTable>;
export type WebSessionRow = Selectable<WebSessionTable>;

export async function adminByName(db: Db, userName: string): Promise<AdminAccountRow | undefined> {
  return db.kysely.selectFrom('admin_accounts').selectAll().where('user_name_key', '=', userName.trim().toLowerCase()).executeTakeFirst();
}

export async function adminById(db: Db, id: string): Promise<AdminAccountRow | undefined> {
  return db.kysely.selectFrom('admin_accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function adminBySetupCode(db: Db, codeSha256: string): Promise<AdminAccountRow | undefined> {
  return db.kysely.selectFrom('admin_accounts').selectAll().where('setup_code_sha256', '=', codeSha256).executeTakeFirst();
}

export async function countAdmins(db: Db): Promise<number> {
  const r = await db.kysely.selectFrom('admin_accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Accounts of one tenant (`tenantId`), or every account (undefined), oldest first. */
export async function listAdmins(db: Db, tenantId: string | undefined): Promise<AdminAccountRow[]> {
  let q = db.kysely.selectFrom('admin_accounts').selectAll();
  if (tenantId !== undefined) q = q.where('tenant_id', '=', tenantId);
  return q.orderBy('created_at').orderBy('user_name_key').execute();
}

export async function insertAdmin(db: Db, row: AdminAccountRow): Promise<void> {
  await db.kysely.insertInto('admin_accounts').values(row).execute();
}

/** Sets the password and uses up the set-up code, only if that code is still the account's (single use under races). */
export async function setAdminPassword(db: Db, id: string, codeSha256: string, passwordHash: string): Promise<boolean> {
  const r = await db.kysely.updateTable('admin_accounts').set({ password_hash: passwordHash, setup_code_sha256: null, setup_expires_at: null })
    .where('id', '=', id).where('setup_code_sha256', '=', codeSha256).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function stampAdminSignIn(db: Db, id: string, at: number): Promise<void> {
  await db.kysely.updateTable('admin_accounts').set({ last_sign_in_at: at }).where('id', '=', id).execute();
}

/** Removes an account and its sessions (they end at once: the next request with their cookie is refused). */
export async function deleteAdmin(db: Db, id: string): Promise<void> {
  await db.kysely.transaction().execute(async (tx) => {
    await tx.deleteFrom('web_sessions').where('account_id', '=', id).execute();
    await tx.deleteFrom('admin_accounts').where('id', '=', id).execute();
  });
}

/** Adds a session, and drops the account's sessions that ended or began before `staleBefore` (they can no longer be used). */
export async function insertSession(db: Db, row: WebSessionRow, staleBefore: number): Promise<void> {
  await db.kysely.transaction().execute(async (tx) => {
    await tx.deleteFrom('web_sessions').where('account_id', '=', row.account_id)
      .where((eb) => eb.or([eb('ended_at', 'is not', null), eb('created_at', '<', staleBefore)])).execute();
    await tx.insertInto('web_sessions').values(row).execute();
  });
}

export async function sessionById(db: Db, idSha256: string): Promise<WebSessionRow | undefined> {
  return db.kysely.selectFrom('web_sessions').selectAll().where('id_sha256', '=', idSha256).executeTakeFirst();
}

export async function touchSession(db: Db, idSha256: string, at: number): Promise<void> {
  await db.kysely.updateTable('web_sessions').set({ last_seen_at: at }).where('id_sha256', '=', idSha256).execute();
}

export async function endSession(db: Db, idSha256: string, at: number): Promise<void> {
  await db.kysely.updateTable('web_sessions').set({ ended_at: at }).where('id_sha256', '=', idSha256).where('ended_at', 'is', null).execute();
}
