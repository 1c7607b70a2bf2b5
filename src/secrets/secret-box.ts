import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MmsError } from '../domain/errors.js';

const PREFIX = 'v1:';

/**
 * Seals secrets (mailbox passwords) for storage with AES-256-GCM: a random 96-bit IV per secret, the 128-bit tag
 * checked on open. `context` is bound as additional data, so a sealed value copied onto another row or field does
 * not open there.
 */
export class SecretBox {
  constructor(private readonly key: () => Buffer) {}

  /** `v1:` + base64(iv ‖ tag ‖ ciphertext). */
  seal(plain: string, context: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key(), iv);
    c.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return PREFIX + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }

  /**
   * A 32-byte key for one purpose, derived from the secret key with HKDF-SHA256 (`label` is the info): the leader
   * PIN pepper is one. It never leaves the process and is never stored; a stolen database without the key (or the
   * key file) gives nothing to compute it from.
   */
  derive(label: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key(), Buffer.alloc(0), Buffer.from(label, 'utf8'), 32));
  }

  /** Whether a key is available (MMS_SECRET_KEY, or SQLite's key file): false on PostgreSQL without MMS_SECRET_KEY. */
  hasKey(): boolean {
    try {
      this.key();
      return true;
    } catch {
      return false;
    }
  }

  open(sealed: string, context: string): string {
    if (!sealed.startsWith(PREFIX)) throw new MmsError('Config', `a stored secret (${context}) is not in a known format; store it again`);
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    try {
      const d = createDecipheriv('aes-256-gcm', this.key(), raw.subarray(0, 12));
      d.setAAD(Buffer.from(context, 'utf8'));
      d.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
    } catch {
      throw new MmsError('Config', `the stored secret of ${context} does not open with this key: MMS_SECRET_KEY (or the key file) differs from the one it was stored with; restore that key or store the secret again`);
    }
  }
}

/** Reads `MMS_SECRET_KEY`: 32 bytes as 64 hex digits or base64; anything else is refused at start. */
export function parseSecretKey(value: string): Buffer | undefined {
  const v = value.trim();
  if (/^[0-9a-f]{64}$/i.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(v) || /^[A-Za-z0-9_-]{43}$/.test(v)) {
    const b = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === 32) return b;
  }
  return undefined;
}

/** Where the embedded default keeps its generated key: beside the database file. */
export function keyFileFor(sqliteFile: string): string {
  return `${sqliteFile}.secret-key`;
}

/**
 * The key secrets are sealed with: `MMS_SECRET_KEY` when set. Otherwise, on SQLite, a key file beside the database
 * (created on first need with mode 0600, so only the service's OS user reads it; a process racing to create it reads
 * the winner's). On PostgreSQL there is no such place every worker shares: storing or reading a secret fails with
 * the fix. An in-memory SQLite database gets a key for the life of the process, like its data.
 */
export function secretBoxFor(opts: { secretKey: Buffer | undefined; dialect: 'sqlite' | 'postgres'; sqliteFile?: string }): SecretBox {
  let cached = opts.secretKey;
  return new SecretBox(() => {
    if (cached) return cached;
    if (opts.dialect === 'postgres') {
      throw new MmsError('Config', 'a password must be stored or read encrypted but MMS_SECRET_KEY is not set: set it to 32 random bytes in base64 (openssl rand -base64 32), the same for every mms process on this database');
    }
    if (!opts.sqliteFile || opts.sqliteFile === ':memory:') return (cached = randomBytes(32));
    return (cached = readOrCreateKeyFile(keyFileFor(opts.sqliteFile)));
  });
}

/**
 * A 32-byte key kept in `file`: read, or generated (mode 0600) the first time. Also the telemetry key's file
 * (src/telemetry/keys.ts): one way to keep a generated key beside the database.
 */
export function readOrCreateKeyFile(file: string, envName = 'MMS_SECRET_KEY'): Buffer {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Written whole under a temporary name, then linked into place: a racing process never reads a half-written
    // key, and the link fails (EEXIST) for all but the first.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(tmp, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      fs.linkSync(tmp, file);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new MmsError('Config', `cannot create the secret key file ${file} (${(err as Error).message}); make its folder writable or set ${envName}`);
    }
  }
  const key = parseSecretKey(fs.readFileSync(file, 'utf8'));
  if (!key) throw new MmsError('Config', `the secret key file ${file} does not hold 32 bytes in base64; restore it from a backup (secrets stored with it cannot be read otherwise) or set ${envName}`);
  return key;
}
