import { randomUUID } from 'node:crypto';
import { conflict, notFound, usageError } from '../domain/errors.js';
import type { Db } from '../store/index.js';
import { writeTransaction } from '../store/transaction.js';
import { insertAudit } from '../store/audit-repo.js';
import { requireUser } from '../store/directory-repo.js';
import {
  countUsersOnHost, deleteMailboxHost, findMailboxHost, getMailboxHostById, getUserMailbox, insertMailboxHost, listMailboxHosts,
  updateMailboxHost, upsertUserMailbox, type MailboxHostRecord, type UserMailboxRecord,
} from '../store/mailbox-host-repo.js';
import type { SecretBox } from '../secrets/index.js';
import { connectionOf, hostSecretContext, userSecretContext, type MailboxConnection } from '../mailbox/index.js';
export type { MailboxConnection } from '../mailbox/index.js';
import type { DirectoryContext } from './context.js';

export const MAILBOX_HOST_TYPES = ['CalDav'] as const;
export type MailboxHostType = (typeof MAILBOX_HOST_TYPES)[number];

/** What an admin sees of a host: never the password, only whether one is stored. */
export interface MailboxHostView {
  readonly name: string;
  readonly type: MailboxHostType;
  readonly url: string;
  readonly userName: string | null;
  readonly hasPassword: boolean;
  readonly maxConcurrency: number;
  readonly principalUrlTemplate: string | null;
  readonly users: number;
}

export interface MailboxHostInput {
  readonly name: string;
  readonly type: MailboxHostType;
  readonly url: string;
  readonly userName?: string;
  readonly password?: string;
  readonly maxConcurrency?: number;
  readonly principalUrlTemplate?: string;
}

/** Changes of Set-MmsMailboxHost: absent = unchanged; an empty template or user name clears it. */
export interface MailboxHostChange {
  readonly url?: string;
  readonly userName?: string;
  readonly password?: string;
  readonly maxConcurrency?: number;
  readonly principalUrlTemplate?: string;
}


function checkUrl(url: string, param: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw usageError(`${param} '${url}' is not a URL: give https://calendar.contoso.com/ (or http:// for a server on this machine)`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw usageError(`${param} '${url}' must start with https:// (or http://)`);
  if (u.username || u.password) throw usageError(`${param} must not carry credentials: give -UserName and -PasswordFile instead`);
  return u.href;
}

function checkConcurrency(n: number | undefined): number {
  const v = n ?? 4;
  if (!Number.isInteger(v) || v < 1 || v > 64) throw usageError(`-MaxConcurrency ${v} is out of range: give a whole number from 1 to 64`);
  return v;
}

function checkTemplate(t: string | undefined): string | null {
  if (t === undefined || t.trim() === '') return null;
  if (!/\{(upn|localpart)\}/.test(t)) throw usageError(`-PrincipalUrlTemplate '${t}' has no {upn} or {localpart}: give e.g. https://dav.contoso.com/principals/{upn}/`);
  return t.trim();
}

function checkCredentials(userName: string | undefined, password: string | undefined): void {
  if ((userName === undefined) !== (password === undefined)) throw usageError('give -UserName and -PasswordFile together (the account and the file holding its password)');
  if (password !== undefined && password === '') throw usageError('the -PasswordFile is empty: put the password in it (one line)');
}

function view(h: MailboxHostRecord & { users?: number }): MailboxHostView {
  return { name: h.name, type: h.type, url: h.url, userName: h.userName, hasPassword: h.passwordSealed !== null, maxConcurrency: h.maxConcurrency, principalUrlTemplate: h.principalUrlTemplate, users: h.users ?? 0 };
}

async function requireHost(k: Db['kysely'], tenantId: string, name: string): Promise<MailboxHostRecord> {
  const h = await findMailboxHost(k, tenantId, name);
  if (!h) {
    const known = (await listMailboxHosts(k, tenantId)).map((x) => x.name).join(', ') || 'none yet';
    throw notFound(`no mailbox host named '${name}' (known: ${known}); create it with New-MmsMailboxHost`);
  }
  return h;
}

/** New-MmsMailboxHost. The password is sealed before it reaches the database; the audit row only says one is set. */
export async function newMailboxHost(ctx: DirectoryContext, tenantId: string, input: MailboxHostInput, box: SecretBox): Promise<MailboxHostView> {
  const name = input.name.trim();
  if (!name) throw usageError('-Name is empty: give the host a name, e.g. -Name Radicale');
  checkCredentials(input.userName, input.password);
  const url = checkUrl(input.url, '-Url');
  // Every parameter is checked before the password is sealed: a refused command must not create the key file.
  const maxConcurrency = checkConcurrency(input.maxConcurrency);
  const principalUrlTemplate = checkTemplate(input.principalUrlTemplate);
  const id = randomUUID();
  const now = ctx.now();
  const rec: MailboxHostRecord = {
    id, tenantId, name, type: input.type, url, userName: input.userName ?? null,
    passwordSealed: input.password !== undefined ? box.seal(input.password, hostSecretContext(id)) : null,
    maxConcurrency, principalUrlTemplate, createdAt: now, modifiedAt: now,
  };
  return writeTransaction(ctx.db, async (tx) => {
    if (await findMailboxHost(tx, tenantId, name)) throw conflict(`a mailbox host named '${name}' exists already; change it with Set-MmsMailboxHost or pick another -Name`);
    await insertMailboxHost(tx, rec);
    await insertAudit(tx, {
      tenantId, at: now, actor: ctx.actor, cmdlet: 'New-MmsMailboxHost', userId: null, target: name,
      changes: { Type: [null, rec.type], Url: [null, url], UserName: [null, rec.userName], Password: [null, rec.passwordSealed ? 'set' : null], MaxConcurrency: [null, rec.maxConcurrency], PrincipalUrlTemplate: [null, rec.principalUrlTemplate] },
      decision: 'None', reason: 'mailbox host created', correlationId: null,
    });
    return view(rec);
  });
}

/** Get-MmsMailboxHost: all the tenant's hosts, or the one named. */
export async function getMailboxHosts(db: Db, tenantId: string, name?: string): Promise<MailboxHostView[]> {
  if (name !== undefined) {
    const h = await requireHost(db.kysely, tenantId, name);
    return [view({ ...h, users: await countUsersOnHost(db.kysely, h.id) })];
  }
  return (await listMailboxHosts(db.kysely, tenantId)).map(view);
}

/** Set-MmsMailboxHost. */
export async function setMailboxHost(ctx: DirectoryContext, tenantId: string, name: string, change: MailboxHostChange, box: SecretBox): Promise<MailboxHostView> {
  if (Object.values(change).every((v) => v === undefined)) throw usageError('nothing to change: give -Url, -UserName with -PasswordFile, -MaxConcurrency or -PrincipalUrlTemplate');
  if (change.password !== undefined && change.password === '') throw usageError('the -PasswordFile is empty: put the password in it (one line)');
  return writeTransaction(ctx.db, async (tx) => {
    const h = await requireHost(tx, tenantId, name);
    const clearUser = change.userName !== undefined && change.userName.trim() === '';
    if (change.userName !== undefined && !clearUser && change.password === undefined && h.passwordSealed === null) {
      throw usageError('give -PasswordFile with -UserName: the host has no password stored');
    }
    const url = change.url !== undefined ? checkUrl(change.url, '-Url') : h.url;
    // The stored password goes only to the server it was given for: a -Url on another server (scheme, host or port)
    // needs it given again, so a change of URL alone (over REST, where no password can be given) cannot send it
    // elsewhere.
    if (new URL(url).origin !== new URL(h.url).origin && h.passwordSealed !== null && change.password === undefined && !clearUser) {
      throw usageError(`-Url ${url} is another server than ${new URL(h.url).origin}: give the service account's password again with -PasswordFile (a stored password is only sent to the server it was given for), or -UserName '' to use none`);
    }
    const after: MailboxHostRecord = {
      ...h,
      url,
      userName: clearUser ? null : change.userName ?? h.userName,
      passwordSealed: clearUser ? null : change.password !== undefined ? box.seal(change.password, hostSecretContext(h.id)) : h.passwordSealed,
      maxConcurrency: change.maxConcurrency !== undefined ? checkConcurrency(change.maxConcurrency) : h.maxConcurrency,
      principalUrlTemplate: change.principalUrlTemplate !== undefined ? checkTemplate(change.principalUrlTemplate) : h.principalUrlTemplate,
      modifiedAt: ctx.now(),
    };
    if (after.passwordSealed !== null && after.userName === null) throw usageError('a password needs a -UserName: give both');
    const changes: Record<string, readonly [unknown, unknown]> = {};
    for (const k of ['url', 'userName', 'maxConcurrency', 'principalUrlTemplate'] as const) {
      if (after[k] !== h[k]) changes[k[0]!.toUpperCase() + k.slice(1)] = [h[k], after[k]];
    }
    // Only whether a password is set, and that it changed: never the value, nor its sealed form.
    if (after.passwordSealed !== h.passwordSealed) changes.Password = [h.passwordSealed ? 'set' : null, after.passwordSealed ? 'changed' : null];
    await updateMailboxHost(tx, after);
    await insertAudit(tx, { tenantId, at: after.modifiedAt, actor: ctx.actor, cmdlet: 'Set-MmsMailboxHost', userId: null, target: h.name, changes, decision: 'None', reason: 'mailbox host changed', correlationId: null });
    return view({ ...after, users: await countUsersOnHost(tx, h.id) });
  });
}

/** Remove-MmsMailboxHost: refused while users' mailboxes are on it (they would become unreachable unnoticed). */
export async function removeMailboxHost(ctx: DirectoryContext, tenantId: string, name: string): Promise<void> {
  await writeTransaction(ctx.db, async (tx) => {
    const h = await requireHost(tx, tenantId, name);
    const users = await countUsersOnHost(tx, h.id);
    if (users > 0) throw conflict(`${users} user(s) have their mailbox on '${h.name}': move them to another host with Set-MmsUserMailbox first`);
    await deleteMailboxHost(tx, h.id);
    await insertAudit(tx, { tenantId, at: ctx.now(), actor: ctx.actor, cmdlet: 'Remove-MmsMailboxHost', userId: null, target: h.name, changes: { MailboxHost: [h.name, null] }, decision: 'None', reason: 'mailbox host removed', correlationId: null });
  });
}

/** What Get-/Set-MmsUserMailbox show: never the password. */
export interface UserMailboxView {
  readonly upn: string;
  readonly mailboxHost: string;
  readonly calendarUrl: string | null;
  /** The user's own account name, or null when the host's service account is used. */
  readonly userName: string | null;
}

/**
 * Set-MmsUserMailbox: puts the user's mailbox on a host, optionally at a given calendar URL and with the user's own
 * credentials. A mailbox on a host is reachable, so only a user whose MailboxLocation is Online can have one: an
 * on-premises mailbox stays out of MMS's reach (the manual tool's case).
 */
export async function setUserMailbox(
  ctx: DirectoryContext,
  tenantId: string,
  identity: string,
  input: { hostName: string; calendarUrl?: string; userName?: string; password?: string },
  box: SecretBox,
): Promise<UserMailboxView> {
  checkCredentials(input.userName, input.password);
  const calendarUrl = input.calendarUrl !== undefined && input.calendarUrl.trim() !== '' ? checkUrl(input.calendarUrl, '-CalendarUrl') : null;
  return writeTransaction(ctx.db, async (tx) => {
    const user = await requireUser(tx, tenantId, identity);
    if (user.mailboxLocation === 'OnPremises') {
      throw conflict(`the mailbox of ${user.upn} is on-premises (MailboxLocation OnPremises), out of MMS's reach; use the manual migration tool, or move the mailbox online first`);
    }
    const host = await requireHost(tx, tenantId, input.hostName);
    // With the host's service account, the calendar must be on the host's own server: its password is sent there,
    // and a calendar URL is no way to point MMS at any other address (only the host's -Url does that).
    if (calendarUrl !== null && input.userName === undefined && new URL(calendarUrl).origin !== new URL(host.url).origin) {
      throw usageError(`-CalendarUrl ${calendarUrl} is not on mailbox host '${host.name}' (${new URL(host.url).origin}), whose service account would be used there: give a URL on that server, or the user's own -UserName and -PasswordFile`);
    }
    const before = await getUserMailbox(tx, user.id);
    const beforeHost = before ? (await getMailboxHostById(tx, before.hostId))?.name ?? null : null;
    const rec: UserMailboxRecord = {
      userId: user.id, tenantId, hostId: host.id, calendarUrl, userName: input.userName ?? null,
      passwordSealed: input.password !== undefined ? box.seal(input.password, userSecretContext(user.id)) : null, modifiedAt: ctx.now(),
    };
    await upsertUserMailbox(tx, rec);
    const changes: Record<string, readonly [unknown, unknown]> = {};
    if (beforeHost !== host.name) changes.MailboxHost = [beforeHost, host.name];
    if ((before?.calendarUrl ?? null) !== calendarUrl) changes.CalendarUrl = [before?.calendarUrl ?? null, calendarUrl];
    if ((before?.userName ?? null) !== rec.userName) changes.UserName = [before?.userName ?? null, rec.userName];
    if ((before?.passwordSealed ?? null) !== rec.passwordSealed) changes.Password = [before?.passwordSealed ? 'set' : null, rec.passwordSealed ? 'changed' : null];
    await insertAudit(tx, { tenantId, at: rec.modifiedAt, actor: ctx.actor, cmdlet: 'Set-MmsUserMailbox', userId: user.id, target: user.upn, changes, decision: 'None', reason: `mailbox on host ${host.name}`, correlationId: null });
    return { upn: user.upn, mailboxHost: host.name, calendarUrl, userName: rec.userName };
  });
}

/** The user's mailbox assignment, or undefined when the mailbox is in the built-in store. */
export async function getUserMailboxView(db: Db, tenantId: string, identity: string): Promise<UserMailboxView | undefined> {
  const user = await requireUser(db.kysely, tenantId, identity);
  const mb = await getUserMailbox(db.kysely, user.id);
  if (!mb) return undefined;
  const host = await getMailboxHostById(db.kysely, mb.hostId);
  return { upn: user.upn, mailboxHost: host?.name ?? '', calendarUrl: mb.calendarUrl, userName: mb.userName };
}

/**
 * How to reach a host, as its service account, or (with `identity`) one user's mailbox on it: the user's own
 * credentials and calendar URL when set, else the service account and the principal from the host's template.
 */
export async function mailboxConnection(db: Db, tenantId: string, hostName: string, identity: string | undefined, box: SecretBox): Promise<MailboxConnection> {
  const host = await requireHost(db.kysely, tenantId, hostName);
  if (identity === undefined) return connectionOf(host, undefined, box);
  const user = await requireUser(db.kysely, tenantId, identity);
  const mb = await getUserMailbox(db.kysely, user.id);
  if (!mb) throw conflict(`the mailbox of ${user.upn} is not on a host: put it on one with Set-MmsUserMailbox -Identity ${user.upn} -MailboxHost ${host.name}`);
  if (mb.hostId !== host.id) {
    const other = await getMailboxHostById(db.kysely, mb.hostId);
    throw conflict(`the mailbox of ${user.upn} is on host '${other?.name ?? mb.hostId}', not '${host.name}': test that host, or move it with Set-MmsUserMailbox`);
  }
  return connectionOf(host, { id: user.id, upn: user.upn, mailbox: mb }, box);
}
