// Pseudonyms (issue 11 §2). A plain or salted hash of a user id is reversible by hashing every candidate id, so MMS
// stores only HMAC-SHA256 under a key it keeps: MMS_TELEMETRY_KEY, or on the embedded SQLite default a generated key
// file beside the database (like MMS_SECRET_KEY's). Every tenant, epoch and context gets its own key, derived with
// HKDF: the same user is a different pseudonym in census and in error reports (they cannot be joined without the
// master key), in another tenant, and after -RotateKey starts a new epoch (old rows keep the epoch they were made in).
import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { MmsError } from '../domain/errors.js';
import { readOrCreateKeyFile } from '../secrets/index.js';
import type { Db } from '../store/index.js';
import { claimKeyFingerprint } from '../store/telemetry-repo.js';

/** The contexts a pseudonym is made in; each has keys of its own. `opt-in` has no epoch: a choice outlives rotation. */
export type PseudonymContext = 'census-user' | 'census-device' | 'usage-device' | 'error-user' | 'error-device' | 'error-sip' | 'opt-in';

const distinct = (s: string) => new Set(s).size;

/**
 * Reads MMS_TELEMETRY_KEY: at least 32 bytes of key material, as hex (64 digits or more) or base64 (43 characters or
 * more); anything else is refused at start. Text made only of hex digits is hex: 40 of them are 20 bytes, not the 30
 * they would decode to as base64. Text with few distinct characters (a word repeated, a passphrase) is not random
 * bytes: refused too, since the pseudonyms are only as safe as the key is unguessable.
 */
export function parseTelemetryKey(value: string): Buffer | undefined {
  const v = value.trim();
  if (/^[0-9a-f]+$/i.test(v)) return v.length >= 64 && v.length % 2 === 0 && distinct(v.toLowerCase()) >= 10 ? Buffer.from(v, 'hex') : undefined;
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(v) || v.replace(/=+$/, '').length % 4 === 1) return undefined;
  const b = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return b.length >= 32 && distinct(v) >= 20 ? b : undefined;
}

/** Where the embedded default keeps its generated telemetry key: beside the database file. */
export function telemetryKeyFileFor(sqliteFile: string): string {
  return `${sqliteFile}.telemetry-key`;
}

/** SHA-256 hex: what a client sends for a user id (census) and what MMS makes of a clear one before keying it. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Makes pseudonyms with the deployment's telemetry key. The key is found on first use: MMS_TELEMETRY_KEY, else on
 * SQLite the key file beside the database (created 0600 the first time); PostgreSQL without the variable refuses
 * with the fix, since its worker processes share no file.
 */
export class Pseudonyms {
  private master: Buffer | undefined;
  /** Derived keys by tenant, epoch and context: looked up twice or more per event, so no key string is built. */
  private readonly derived = new Map<string, Map<number, Partial<Record<PseudonymContext, Buffer>>>>();

  constructor(private readonly opts: { telemetryKey: Buffer | undefined; dialect: 'sqlite' | 'postgres'; sqliteFile?: string }) {
    this.master = opts.telemetryKey;
  }

  /** Throws the fix when no key can be had (PostgreSQL without MMS_TELEMETRY_KEY). */
  masterKey(): Buffer {
    if (this.master) return this.master;
    const { dialect, sqliteFile } = this.opts;
    if (dialect === 'postgres') {
      throw new MmsError('Config', 'telemetry needs MMS_TELEMETRY_KEY on PostgreSQL: set it to at least 32 random bytes in base64 (openssl rand -base64 32), the same for every mms process on this database');
    }
    if (!sqliteFile || sqliteFile === ':memory:') return (this.master = randomBytes(32));
    return (this.master = readOrCreateKeyFile(telemetryKeyFileFor(sqliteFile), 'MMS_TELEMETRY_KEY'));
  }

  private key(tenantId: string, context: PseudonymContext, epoch: number): Buffer {
    let ofTenant = this.derived.get(tenantId);
    if (!ofTenant) this.derived.set(tenantId, (ofTenant = new Map()));
    let ofEpoch = ofTenant.get(epoch);
    if (!ofEpoch) ofTenant.set(epoch, (ofEpoch = {}));
    let k = ofEpoch[context];
    if (!k) {
      const info = context === 'opt-in' ? 'mms-telemetry/v1/opt-in' : `mms-telemetry/v1/${context}/epoch-${epoch}`;
      k = Buffer.from(hkdfSync('sha256', this.masterKey(), Buffer.from(tenantId, 'utf8'), Buffer.from(info, 'utf8'), 32));
      ofEpoch[context] = k;
    }
    return k;
  }

  /** HMAC-SHA256 (hex) of `value` under the tenant's key for `context` in `epoch`. */
  of(tenantId: string, context: PseudonymContext, epoch: number, value: string): string {
    return createHmac('sha256', this.key(tenantId, context, epoch)).update(value, 'utf8').digest('hex');
  }

  /** An HMAC of a constant under the master key: tells one key from another and gives nothing away about either. */
  fingerprint(): string {
    return createHmac('sha256', this.masterKey()).update('mms-telemetry/v1/key-fingerprint', 'utf8').digest('hex');
  }

  /** The key under which a user's error-reporting choice is kept: from the SHA-256 of the normalized id. */
  optInKey(tenantId: string, userSha256: string): string {
    return this.of(tenantId, 'opt-in', 0, userSha256);
  }
}

/**
 * Whether the key is the one the database's pseudonyms and opt-ins were made with (the first start records it): the
 * problem with its fix, or undefined. Another key would silently make every user a stranger and lose every opt-in.
 */
export async function telemetryKeyProblem(db: Db, pseudonyms: Pseudonyms, now: number): Promise<string | undefined> {
  const mine = pseudonyms.fingerprint();
  const stored = await claimKeyFingerprint(db, mine, now);
  if (stored === mine) return undefined;
  return `MMS_TELEMETRY_KEY (or the SQLite key file beside the database) is not the key this database's telemetry pseudonyms and opt-ins were made with (fingerprint ${stored.slice(0, 12)}…, this key's ${mine.slice(0, 12)}…): set MMS_TELEMETRY_KEY back to that key on every mms process; to start over with this key instead — every user and device becomes a new pseudonym and every error-reporting opt-in is lost — delete the old fingerprint (DELETE FROM telemetry_key_check)`;
}
