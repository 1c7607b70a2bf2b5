import { createHash, createHmac, randomInt, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import type { Db } from '../store/index.js';
import type { SecretBox } from '../secrets/index.js';
import { listTenants } from '../store/directory-repo.js';
import type { Tenant } from '../domain/directory.js';
import { notFound, usageError } from '../domain/errors.js';

/** Who acts, when, and on which database: every directory operation takes one. */
export interface DirectoryContext {
  readonly db: Db;
  readonly actor: string;
  readonly now: () => number;
  /** How long a triggered request waits before it may run (coalesces bursts of changes). */
  readonly migrationDelayMs: number;
  /**
   * The secret key (MMS_SECRET_KEY, or SQLite's key file): leader PINs are hashed with a pepper derived from it, and
   * a PIN waiting in the outbox is sealed with it. The CLI, REST API and admin center always pass it; library callers
   * without it (test fixtures, benches, the demo loader) issue no leader PIN at all (user-notice.ts).
   */
  readonly secrets?: SecretBox;
  /**
   * Emails to users about their own dial-in settings (issue 12 §3): from this service mailbox (MMS_SERVICE_ADDRESS,
   * else mms@<the tenant's primary domain>). Undefined: no such email is queued (library callers), a PIN issued is
   * only returned.
   */
  readonly userNotices?: { readonly serviceAddress: string | undefined };
  /** -SendEmail [-SendEmailToAddress] of this one command: one email on demand, whatever AutomaticallySendEmailsToUsers says. */
  readonly sendEmail?: { readonly to: string | undefined };
  /**
   * A leader PIN and its slow hash made before the write transaction (changeUser): scrypt then never runs while
   * the transaction holds SQLite's write lock. With `pinBeforeTransaction` and no PIN of the tenant's length ready, a
   * change that issues one throws PinNeeded; changeUser makes one and runs the transaction again.
   */
  readonly preparedPin?: PreparedPin;
  readonly pinBeforeTransaction?: boolean;
}

export interface PreparedPin {
  readonly pin: string;
  readonly hash: string;
}

/** Thrown inside a transaction that would issue a leader PIN none was prepared for (see DirectoryContext.preparedPin). */
export class PinNeeded extends Error {
  constructor(readonly length: number) {
    super(`a leader PIN of ${length} digits must be made before the transaction`);
  }
}

/** A new PIN of `length` digits and its stored form (hashLeaderPin): the slow part, run outside any transaction. */
export async function preparePin(length: number, secrets: SecretBox | undefined): Promise<PreparedPin> {
  const pin = newPin(length);
  return { pin, hash: await hashLeaderPin(pin, pinPepper(secrets)) };
}

/**
 * The tenant a command acts on: by name or verified domain, or the only tenant when there is one.
 */
export async function resolveTenant(db: Db, nameOrDomain: string | undefined): Promise<Tenant> {
  const tenants = await listTenants(db.kysely);
  if (nameOrDomain) {
    const key = nameOrDomain.trim().toLowerCase();
    const t = tenants.find((x) => x.name.toLowerCase() === key || x.id === key || x.domains.some((d) => d.toLowerCase() === key));
    if (!t) {
      const known = tenants.map((x) => x.name).join(', ') || 'none yet';
      throw notFound(`no tenant named '${nameOrDomain}' (known: ${known}); check -Tenant or MMS_TENANT`);
    }
    return t;
  }
  const only = tenants[0];
  if (tenants.length === 1 && only) return only;
  if (tenants.length === 0) {
    throw notFound('there is no tenant yet: create one with New-MmsTenant -Name Contoso -Domain contoso.com, or load the demo with Initialize-MmsDemo');
  }
  throw usageError(`this deployment holds ${tenants.length} tenants (${tenants.map((x) => x.name).join(', ')}): pass -Tenant <name> or set MMS_TENANT`);
}

/** A conference ID: 7 random digits, like the reference's. Uniqueness is the caller's check. */
export function newConferenceId(): string {
  return String(randomInt(1_000_000, 10_000_000));
}

/** A random leader PIN of the tenant's length. */
export function newPin(length: number): string {
  let pin = '';
  for (let i = 0; i < length; i++) pin += String(randomInt(0, 10));
  return pin;
}

/**
 * Leader PIN hashing (issue 12 §3). A PIN is 4 to 12 digits: at most 10^12 and usually 10^5 candidates, so a plain
 * salted hash is read back by trying them all. Two things stop that:
 *
 * - a pepper: HMAC-SHA256 of the PIN with a 32-byte key derived from MMS_SECRET_KEY (SecretBox.derive). The key is
 *   never in the database, so a stolen database alone offers nothing to try PINs against;
 * - a slow, memory-hard hash of that: scrypt N=2^14, r=8, p=1 — 16 MiB and roughly 50–150 ms per guess, so even an
 *   attacker who has the key as well pays hours of core time per 5-digit PIN, and the 16 MiB each guess needs
 *   keeps GPUs from running thousands in parallel. It is run on libuv's thread pool (crypto.scrypt), once per PIN
 *   issued (licence assigned, provider switched, PIN reset), before the change's write transaction (PreparedPin),
 *   so bulk provisioning costs that per user and no other writer waits for it.
 *
 * The stored form names its parameters and which pepper it used (`pin2$scrypt$N=16384,r=8,p=1$k:<id>$salt$hash`,
 * `$none$` when no key was available), so the cost can be raised later: new PINs get the new parameters and older
 * hashes keep verifying with the ones they name. Hashes written before this scheme (`scrypt$4096$salt$hash`,
 * unpeppered) keep verifying as they are; they are replaced the next time the user's PIN is issued or reset (there
 * is no clear PIN to migrate them with).
 */
const PIN_SCRYPT = { N: 16384, r: 8, p: 1 } as const;
const PEPPER_LABEL = 'mms/leader-pin-pepper/v1';
/** scrypt needs 128·N·r bytes; node's default ceiling (32 MiB) is raised so that the cost can grow a step. */
const maxmem = (N: number, r: number) => 256 * N * r;

const scryptAsync = (secret: Buffer, salt: Buffer, params: { N: number; r: number; p: number }) =>
  new Promise<Buffer>((resolve, reject) => scrypt(secret, salt, 32, { ...params, maxmem: maxmem(params.N, params.r) }, (err, key) => (err ? reject(err) : resolve(key))));

/** The PIN pepper of a context: derived from its secret key, or null when it has none (see DirectoryContext.secrets). */
export function pinPepper(secrets: SecretBox | undefined): Buffer | null {
  return secrets?.hasKey() ? secrets.derive(PEPPER_LABEL) : null;
}

/** Names a pepper in a stored hash without revealing it: a key change is then told apart from a wrong PIN. */
const pepperId = (pepper: Buffer | null) => (pepper ? `k:${createHash('sha256').update(pepper).digest('hex').slice(0, 12)}` : 'none');

const peppered = (pin: string, pepper: Buffer | null) => (pepper ? createHmac('sha256', pepper).update(pin, 'utf8').digest() : Buffer.from(pin, 'utf8'));

/** The stored form of a leader PIN (see above): never the PIN, nor anything it can be read back from without the key. */
export async function hashLeaderPin(pin: string, pepper: Buffer | null): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(peppered(pin, pepper), salt, PIN_SCRYPT);
  const { N, r, p } = PIN_SCRYPT;
  return `pin2$scrypt$N=${N},r=${r},p=${p}$${pepperId(pepper)}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * Whether `pin` is the PIN a stored hash was made from. False for an empty hash (a user who was never issued one)
 * and for a hash made with another pepper than `pepper` (MMS_SECRET_KEY changed: the PIN must be reset).
 */
export async function verifyLeaderPin(pin: string, stored: string, pepper: Buffer | null): Promise<boolean> {
  const parts = stored.split('$');
  if (parts[0] === 'pin2' && parts[1] === 'scrypt' && parts.length === 6) {
    const params = Object.fromEntries((parts[2] ?? '').split(',').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
    if (parts[3] !== pepperId(pepper)) return false;
    const want = Buffer.from(parts[5] ?? '', 'base64');
    const got = await scryptAsync(peppered(pin, pepper), Buffer.from(parts[4] ?? '', 'base64'), { N: params.N ?? 0, r: params.r ?? 0, p: params.p ?? 0 });
    return got.length === want.length && timingSafeEqual(got, want);
  }
  if (parts[0] === 'scrypt' && parts.length === 4) {
    // Before issue 12: salted scrypt N=4096 of the bare PIN.
    const want = Buffer.from(parts[3] ?? '', 'base64');
    const got = scryptSync(pin, Buffer.from(parts[2] ?? '', 'base64'), 32, { N: Number(parts[1]) });
    return got.length === want.length && timingSafeEqual(got, want);
  }
  return false;
}
