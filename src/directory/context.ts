import { randomInt, scryptSync, randomBytes } from 'node:crypto';
import type { Db } from '../store/index.js';
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
 * Stores a PIN as salted scrypt. A PIN is short, so the hash mostly keeps it out of sight rather than out of
 * reach; a low cost keeps bulk provisioning fast.
 */
export function hashPin(pin: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(pin, salt, 32, { N: 4096 });
  return `scrypt$4096$${salt.toString('base64')}$${hash.toString('base64')}`;
}
