// Browser sessions for the web admin center (issue 10 §2). The cookie `mms_session` carries 256 random bits; the
// database keeps only their SHA-256. A session ends after IDLE_TIMEOUT_MS without a request, ABSOLUTE_TIMEOUT_MS after
// sign-in whatever the activity (OWASP Session Management: 15–30 min idle, a working day absolute), at sign-out, or
// when its account is removed. Cookie: HttpOnly, SameSite=Strict, Path=/, and Secure when the request came over
// HTTPS — which behind a TLS proxy MMS knows only from X-Forwarded-Proto, believed only with MMS_TRUST_PROXY=true
// (Fastify's trustProxy), since anyone can send that header to a server reached directly.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Db } from '../store/index.js';
import { adminById, endSession, insertSession, sessionById, touchSession, type AdminAccountRow } from '../store/admin-repo.js';
import { sha256 } from './admin-accounts.js';

export const SESSION_COOKIE = 'mms_session';
export const IDLE_TIMEOUT_MS = 30 * 60_000;
export const ABSOLUTE_TIMEOUT_MS = 12 * 3_600_000;
/** last_seen_at is written at most this often per session, so reads stay (mostly) reads; idle time is exact to within it. */
const TOUCH_EVERY_MS = 60_000;
export const CSRF_HEADER = 'x-csrf-token';
/** The form field HTML forms carry the CSRF token in. */
export const CSRF_FIELD = 'CsrfToken';

/**
 * The session's CSRF token (synchronizer token, OWASP CSRF cheat sheet): derived from the session secret, so it
 * needs no storage, changes with every session, and tells nothing about the cookie (a one-way hash of it).
 */
export function csrfTokenFor(secret: string): string {
  return sha256(`mms-csrf:${secret}`);
}

export function csrfMatches(secret: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(secret));
  const got = Buffer.from(given);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** The value of cookie `name` in the request, if any. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Secure when the request came over HTTPS, or when admins reach MMS at an https:// MMS_PUBLIC_URL (a TLS proxy). */
function cookieAttributes(request: FastifyRequest, publicUrl: string | undefined): string {
  const secure = request.protocol === 'https' || (publicUrl ?? '').startsWith('https:');
  return `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function sessionCookie(request: FastifyRequest, secret: string, publicUrl: string | undefined): string {
  // No Max-Age: a browser session cookie; the server enforces both timeouts whatever the browser keeps.
  return `${SESSION_COOKIE}=${secret}; ${cookieAttributes(request, publicUrl)}`;
}

export function clearedSessionCookie(request: FastifyRequest, publicUrl: string | undefined): string {
  return `${SESSION_COOKIE}=; ${cookieAttributes(request, publicUrl)}; Max-Age=0`;
}

export async function startSession(db: Db, account: AdminAccountRow, now: number): Promise<string> {
  const secret = randomBytes(32).toString('base64url');
  await insertSession(db, { id_sha256: sha256(secret), account_id: account.id, created_at: now, last_seen_at: now, ended_at: null }, now - ABSOLUTE_TIMEOUT_MS);
  return secret;
}

export type SessionCheck = { account: AdminAccountRow } | { refused: string };

/** The account a session cookie signs in, or why it does not (ended, idle too long, too old, account removed). */
export async function checkSession(db: Db, secret: string, now: number): Promise<SessionCheck> {
  const refused = (why: string) => ({ refused: `${why}: sign in again at /signin` });
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return refused('the session cookie is not one MMS set');
  const id = sha256(secret);
  const s = await sessionById(db, id);
  if (!s || s.ended_at !== null) return refused('the session has ended');
  if (now - s.created_at >= ABSOLUTE_TIMEOUT_MS) return refused(`the session is older than ${ABSOLUTE_TIMEOUT_MS / 3_600_000} h`);
  if (now - s.last_seen_at >= IDLE_TIMEOUT_MS) return refused(`the session was idle for ${IDLE_TIMEOUT_MS / 60_000} min`);
  const account = await adminById(db, s.account_id);
  if (!account) return refused('the admin account was removed');
  if (now - s.last_seen_at >= TOUCH_EVERY_MS) await touchSession(db, id, now);
  return { account };
}

export async function endSessionOf(db: Db, secret: string, now: number): Promise<void> {
  await endSession(db, sha256(secret), now);
}
