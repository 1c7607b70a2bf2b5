// Authentication and role checks for /api/v1 (issue 10 §2), with either credential:
// - a bearer API token (scripts, the remote mms): the audit log's actor is `api:<token name>`;
// - the web session cookie (the admin center): the actor is `web:<UserName>`. A cookie is sent by the browser on its
//   own, so every change made with one (any method but GET/HEAD) must also carry the session's CSRF token in the
//   X-CSRF-Token header, or is refused 403. A bearer token is never sent ambiently and needs none; when a request
//   has both, the token decides and the cookie is ignored.
// A request without a valid credential gets 401 with WWW-Authenticate (RFC 6750); a role too low gets 403.
import type { FastifyRequest } from 'fastify';
import type { Db } from '../store/index.js';
import { touchApiToken } from '../store/token-repo.js';
import { verifyApiToken, type Principal } from './api-tokens.js';
import { HttpError } from './errors.js';
import { allows, type Role } from './routes.js';
import { checkSession, CSRF_HEADER, csrfMatches, csrfTokenFor, readCookie, SESSION_COOKIE } from './sessions.js';

/** Last-use stamps are written at most this often per token, so a busy reader does not turn every read into a write. */
const TOUCH_EVERY_MS = 60_000;

/** A principal and how it signed in: `actor` is the one name the audit log records for its changes. */
export interface Caller extends Principal {
  readonly actor: string;
  /** Session callers only: the CSRF token their changes must carry (GET /api/v1/session hands it to the pages). */
  readonly csrfToken?: string;
}

/** The audit log's name for a principal: the one place it is built. */
export function actorName(via: 'token' | 'session', name: string): string {
  return `${via === 'token' ? 'api' : 'web'}:${name}`;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

export class Authenticator {
  private readonly touched = new Map<string, number>();
  constructor(private readonly db: Db, private readonly now: () => number) {}

  /** The caller of the request, allowed `needed`; throws HttpError 401/403 otherwise. */
  async principal(request: FastifyRequest, needed: Role): Promise<Caller> {
    const header = request.headers.authorization;
    const cookie = header === undefined ? readCookie(request, SESSION_COOKIE) : undefined;
    const p = cookie !== undefined ? await this.fromSession(request, cookie) : await this.fromToken(request, header ?? '');
    if (!allows(p.role, needed)) {
      throw new HttpError(403, 'Forbidden', p.csrfToken !== undefined ? `you are signed in as ${p.name}, a ${p.role}; this needs ${needed} or above` : `the token '${p.name}' is ${p.role}; this needs ${needed} or above`);
    }
    return p;
  }

  private async fromToken(request: FastifyRequest, header: string): Promise<Caller> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new HttpError(401, 'Unauthorized', 'this API needs a token: send Authorization: Bearer <token> (create one with mms New-MmsApiToken)');
    const now = this.now();
    const p = await verifyApiToken(this.db, m[1]!, now);
    if ('refused' in p) throw new HttpError(401, 'Unauthorized', p.refused);
    if (now - (this.touched.get(p.tokenId) ?? 0) >= TOUCH_EVERY_MS) {
      this.touched.set(p.tokenId, now);
      await touchApiToken(this.db, p.tokenId, now).catch((err: unknown) => request.log.warn({ err }, 'could not record the token\'s last use'));
    }
    return { ...p, actor: actorName('token', p.name) };
  }

  private async fromSession(request: FastifyRequest, secret: string): Promise<Caller> {
    const s = await checkSession(this.db, secret, this.now());
    if ('refused' in s) throw new HttpError(401, 'Unauthorized', s.refused);
    if (!SAFE_METHODS.has(request.method) && !csrfMatches(secret, request.headers[CSRF_HEADER])) {
      throw new HttpError(403, 'CsrfTokenMissing', 'a change made with a session cookie needs the session\'s CSRF token in the X-CSRF-Token header: GET /api/v1/session gives it (reload the page)');
    }
    const a = s.account;
    return { tokenId: a.id, name: a.user_name, role: a.role as Role, tenantId: a.tenant_id, actor: actorName('session', a.user_name), csrfToken: csrfTokenFor(secret) };
  }
}
