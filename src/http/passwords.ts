// Admin passwords (issue 10 §2): scrypt from node:crypto (RFC 7914), a random 16-byte salt per password, and the
// parameters written into the hash string — `scrypt$N$r$p$salt$hash` (salt and hash base64url) — so they can be
// raised later without breaking stored hashes. N=2^15, r=8, p=1 is OWASP's scrypt minimum (about 32 MiB, tens of ms).
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { usageError } from '../domain/errors.js';

export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 1024;
const N = 32768;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem: scrypt needs 128·N·r bytes; Node's default limit (32 MiB) is just below that for N=2^15.
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** The reason a new password is refused, as one line that says what to do; undefined when it is acceptable. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `the password is too short: use at least ${MIN_PASSWORD_LENGTH} characters (a few words make a good one)`;
  if (password.length > MAX_PASSWORD_LENGTH) return `the password is too long: use at most ${MAX_PASSWORD_LENGTH} characters`;
  return undefined;
}

export async function hashPassword(password: string): Promise<string> {
  const problem = passwordProblem(password);
  if (problem) throw usageError(problem);
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** A hash no password matches, verified when the user is unknown so that answer takes as long as a wrong password. */
const DUMMY = `scrypt$${N}$${R}$${P}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(KEY_LENGTH).toString('base64url')}`;

/** Whether `password` matches `stored` (constant-time comparison); a null `stored` still costs one scrypt and is false. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored ?? DUMMY) ?? /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(DUMMY)!;
  const expected = Buffer.from(m[5]!, 'base64url');
  const key = await derive(password.slice(0, MAX_PASSWORD_LENGTH), Buffer.from(m[4]!, 'base64url'), Number(m[1]), Number(m[2]), Number(m[3]));
  return stored !== null && key.length === expected.length && timingSafeEqual(key, expected);
}
