// Bearer-token authentication and role checks for /api/v1 (issue 10 §2). A request without a valid token gets 401
// with WWW-Authenticate (RFC 6750); a valid token whose role is too low gets 403 naming the role needed.
import type { FastifyRequest } from 'fastify';
import type { Db } from '../store/index.js';
import { touchApiToken } from '../store/token-repo.js';
import { verifyApiToken, type Principal } from './api-tokens.js';
import { HttpError } from './errors.js';
import { allows, type Role } from './routes.js';

/** Last-use stamps are written at most this often per token, so a busy reader does not turn every read into a write. */
const TOUCH_EVERY_MS = 60_000;

export class Authenticator {
  private readonly touched = new Map<string, number>();
  constructor(private readonly db: Db, private readonly now: () => number) {}

  /** The principal of the request's bearer token, allowed `needed`; throws HttpError 401/403 otherwise. */
  async principal(request: FastifyRequest, needed: Role): Promise<Principal> {
    const header = request.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new HttpError(401, 'Unauthorized', 'this API needs a token: send Authorization: Bearer <token> (create one with mms New-MmsApiToken)');
    const now = this.now();
    const p = await verifyApiToken(this.db, m[1]!, now);
    if ('refused' in p) throw new HttpError(401, 'Unauthorized', p.refused);
    if (!allows(p.role, needed)) throw new HttpError(403, 'Forbidden', `the token '${p.name}' is ${p.role}; this needs ${needed} or above`);
    if (now - (this.touched.get(p.tokenId) ?? 0) >= TOUCH_EVERY_MS) {
      this.touched.set(p.tokenId, now);
      await touchApiToken(this.db, p.tokenId, now).catch((err: unknown) => request.log.warn({ err }, 'could not record the token\'s last use'));
    }
    return p;
  }
}
