// One way to run a cmdlet for a signed-in caller, shared by the REST routes (app.ts) and the admin center's pages
// (admin/), so a page shows exactly what the API answers and is allowed exactly what the API allows.
import { Writable } from 'node:stream';
import type { Config } from '../config.js';
import type { Cmdlet, CmdletContext, CmdletResult, FileTransfer } from '../cli/cmdlet.js';
import { resolveTenant } from '../directory/index.js';
import { notFound } from '../domain/errors.js';
import type { Db } from '../store/index.js';
import type { Principal } from './api-tokens.js';
import type { Caller } from './auth.js';
import { HttpError } from './errors.js';
import { allows, CMDLET_ROUTES } from './routes.js';

export interface RunAsOptions {
  readonly db: Db;
  readonly config: Config;
  readonly now: () => number;
}

const discard = new Writable({ write: (_c, _e, done) => done() });

/** The tenant a principal acts on: its own (a Tenant field naming another one is "no such tenant", leaking nothing), or, for a ServiceAdmin, the one named. */
export async function tenantOf(db: Db, principal: Principal, named: string | undefined): Promise<string | undefined> {
  if (principal.tenantId === null) return named;
  if (named !== undefined) {
    const t = await resolveTenant(db, named).catch(() => undefined);
    if (t?.id !== principal.tenantId) throw notFound(`no tenant named '${named}' for this token; leave out Tenant (the token's own tenant is used)`);
  }
  return principal.tenantId;
}

/**
 * Runs `cmdlet` with parsed `args` as `caller`, inside the caller's tenant (or `namedTenant` for a ServiceAdmin).
 * Throws HttpError 403 when the caller's role is below the cmdlet's route role or it would create a token or
 * account with a role above its own.
 */
export async function runCmdletAs(opts: RunAsOptions, caller: Caller, cmdlet: Cmdlet, args: Record<string, unknown>, namedTenant?: string, files?: FileTransfer): Promise<CmdletResult> {
  const route = CMDLET_ROUTES[cmdlet.name];
  if (!route) throw new HttpError(404, 'NotFound', `${cmdlet.name} is not on the API`);
  // A file route's cmdlet must get its file through `files`: with none it would open the server's own files.
  if (route.file && !files) throw new HttpError(404, 'NotFound', `${cmdlet.name} takes its file through ${route.method} ${route.url} only`);
  if (!allows(caller.role, route.role)) throw new HttpError(403, 'Forbidden', `${caller.name} is a ${caller.role}; ${cmdlet.name} needs ${route.role} or above`);
  if ((cmdlet.name === 'New-MmsApiToken' || cmdlet.name === 'New-MmsAdmin') && !allows(caller.role, args.Role as Caller['role'])) {
    const what = cmdlet.name === 'New-MmsAdmin' ? 'admin account' : 'token';
    throw new HttpError(403, 'Forbidden', `a ${caller.role} cannot create a ${String(args.Role)} ${what}: give a role up to ${caller.role}`);
  }
  const ctx: CmdletContext = {
    db: opts.db, config: opts.config, tenant: await tenantOf(opts.db, caller, namedTenant), now: opts.now,
    actor: caller.actor, stdout: discard, isTty: false, progress: discard, progressIsTty: false, ...(files ? { files } : {}),
  };
  return cmdlet.run(ctx, args);
}
