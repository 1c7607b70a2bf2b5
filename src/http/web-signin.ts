// The web sign-in routes (issue 10 §2): the sign-in and set-password pages and forms, sign-out, and
// GET /api/v1/session for the admin center's pages. The forms post application/x-www-form-urlencoded (parsed only
// inside this plugin: the API routes still take JSON alone); a JSON body gets JSON answers, for script-driven pages.
// Errors on these routes are a page (JSON when JSON was sent), in the same words the API uses.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { MmsError } from '../domain/errors.js';
import type { Db } from '../store/index.js';
import { adminByName, adminBySetupCode, setAdminPassword, stampAdminSignIn, type AdminAccountRow } from '../store/admin-repo.js';
import { getTenant } from '../store/directory-repo.js';
import { sha256 } from './admin-accounts.js';
import type { Authenticator } from './auth.js';
import { HttpError, sendError, STATUS } from './errors.js';
import { hashPassword, MIN_PASSWORD_LENGTH, passwordProblem, verifyPassword } from './passwords.js';
import { checkSession, clearedSessionCookie, CSRF_FIELD, CSRF_HEADER, csrfMatches, csrfTokenFor, endSessionOf, readCookie, SESSION_COOKIE, sessionCookie, startSession } from './sessions.js';
import { limitKeys, SignInLimiter } from './sign-in-limit.js';
import { errorPage, PAGE_CSP, setPasswordPage, signedInPage, signInPage, STYLESHEET, STYLESHEET_PATH } from './web-pages.js';

/** Sign-ins checked at once at most (each costs one scrypt, ~100 ms of a libuv thread; node has 4 of them). */
const MAX_HASHING = 4;

export interface WebSignInOptions {
  readonly db: Db;
  readonly config: Config;
  readonly now: () => number;
  readonly auth: Authenticator;
}

/** Form posts are a few fields: anything bigger is refused before it is read. */
const FORM_BODY_LIMIT = 16 * 1024;
const SIGN_IN_FAILED = 'the user name or the password is not right: try again, or ask an admin for a new sign-in link';

const wantsJson = (request: FastifyRequest) => {
  const accept = request.headers.accept ?? '';
  return (request.headers['content-type'] ?? '').includes('json') || (accept.includes('application/json') && !accept.includes('text/html'));
};

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.status(status).header('content-security-policy', PAGE_CSP).type('text/html; charset=utf-8').send(body);
}

function field(request: FastifyRequest, name: string): string {
  const v = (request.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
}

/** An error as a page on these routes (JSON when the request sent JSON). */
function sendPageError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (wantsJson(request)) return sendError(err, request, reply);
  const fe = err as { statusCode?: number; message?: string };
  let status = 500;
  let text = `the request failed inside MMS; the service log has the details under request id ${request.id}`;
  if (err instanceof HttpError) [status, text] = [err.status, err.message];
  else if (err instanceof MmsError) [status, text] = [STATUS[err.code], err.message];
  else if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) [status, text] = [fe.statusCode, fe.message ?? 'the request is not valid'];
  else request.log.error({ err }, 'request failed');
  return html(reply, status, errorPage(status, text));
}

async function tenantName(db: Db, tenantId: string | null): Promise<string> {
  return tenantId === null ? '(all)' : (await getTenant(db.kysely, tenantId))?.name ?? tenantId;
}

const linkNotValid = () => new HttpError(410, 'LinkNotValid', 'this sign-in link was used already or is not one MMS made: sign in with your password, or ask an admin for a new link (Remove-MmsAdmin, then New-MmsAdmin)');

/** The account a set-up code belongs to while it may still be used; a 410 that says why not otherwise. */
async function setupAccount(db: Db, code: string, now: number): Promise<AdminAccountRow> {
  const row = /^[A-Za-z0-9_-]{43}$/.test(code) ? await adminBySetupCode(db, sha256(code)) : undefined;
  if (!row || row.password_hash !== null) throw linkNotValid();
  if (row.setup_expires_at === null || row.setup_expires_at <= now) {
    throw new HttpError(410, 'LinkExpired', `this sign-in link expired on ${new Date(row.setup_expires_at ?? 0).toISOString()}: ask an admin for a new one (Remove-MmsAdmin, then New-MmsAdmin)`);
  }
  return row;
}

export async function registerWebSignIn(app: FastifyInstance, opts: WebSignInOptions): Promise<void> {
  const { db, now } = opts;
  const limiter = new SignInLimiter();
  let hashing = 0; // sign-ins whose password is being checked now

  app.get(STYLESHEET_PATH, { schema: { hide: true } }, async (_request, reply) => reply.type('text/css; charset=utf-8').send(STYLESHEET));

  app.get('/api/v1/session', {
    schema: { summary: 'Who is signed in: user name, role, tenant, and the CSRF token a session\'s changes must send as X-CSRF-Token.', tags: ['Sign-in'], security: [{ bearer: [] }, { session: [] }] },
  }, async (request) => {
    const p = await opts.auth.principal(request, 'ReadOnly');
    return { UserName: p.name, Role: p.role, Tenant: await tenantName(db, p.tenantId), Actor: p.actor, CsrfToken: p.csrfToken ?? null };
  });

  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    scope.setErrorHandler((err, request, reply) => sendPageError(err, request, reply));
    // Login CSRF: a browser names the page that posts in Origin; a post from another site's page is refused. Ours is
    // the Host the request came to, or MMS_PUBLIC_URL's (a proxy may pass its own Host to MMS).
    const publicOrigin = opts.config.publicUrl ? new URL(opts.config.publicUrl).origin : undefined;
    scope.addHook('preHandler', async (request) => {
      const origin = request.headers.origin;
      if (request.method === 'POST' && origin !== undefined && origin !== publicOrigin && origin.replace(/^https?:\/\//, '') !== request.host) {
        throw new HttpError(403, 'Forbidden', 'this form was posted from another site: open the sign-in page of MMS itself and try again');
      }
    });

    scope.get('/signin', { schema: { hide: true } }, async (request, reply) => {
      const secret = readCookie(request, SESSION_COOKIE);
      const s = secret ? await checkSession(db, secret, now()) : undefined;
      if (s && 'account' in s) {
        const a = s.account;
        return html(reply, 200, signedInPage({ userName: a.user_name, role: a.role, tenant: await tenantName(db, a.tenant_id), csrfToken: csrfTokenFor(secret!) }));
      }
      const done = (request.query as Record<string, unknown>).setup === 'done';
      return html(reply, 200, signInPage(done ? { note: 'Your password is set: sign in with it.' } : {}));
    });

    scope.post('/signin', { schema: { hide: true } }, async (request, reply) => {
      const userName = field(request, 'UserName').trim();
      const password = field(request, 'Password');
      const json = wantsJson(request);
      if (!userName || !password) throw new HttpError(400, 'Usage', 'give UserName and Password');
      const at = now();
      const keys = limitKeys(userName, request.ip);
      const waitMs = limiter.waitMs(keys, at);
      if (waitMs > 0) {
        reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
        throw new HttpError(429, 'TooManyAttempts', `too many failed sign-ins for this user name or from this address: try again in ${Math.ceil(waitMs / 60_000)} min`);
      }
      // Hashing is slow on purpose: a flood of sign-ins must not tie up the threads that do it (and DNS, file I/O).
      if (hashing >= MAX_HASHING) {
        reply.header('retry-after', '1');
        throw new HttpError(503, 'Busy', 'too many sign-ins at once: try again in a moment');
      }
      // Counted as a failure before the password is checked: parallel guesses all meet the limit (taken back on success).
      limiter.fail(keys, at);
      // An unknown user, an account without a password yet and a wrong password: one scrypt each and one answer.
      hashing++;
      let account: Awaited<ReturnType<typeof adminByName>>;
      let ok: boolean;
      try {
        account = await adminByName(db, userName);
        ok = await verifyPassword(password, account?.password_hash ?? null);
      } finally {
        hashing--;
      }
      if (!ok || !account) {
        if (json) throw new HttpError(401, 'SignInFailed', SIGN_IN_FAILED);
        return html(reply, 401, signInPage({ error: SIGN_IN_FAILED.replace(/^t/, 'T') + '.', userName }));
      }
      limiter.succeed(keys, at);
      // A new session every sign-in (no fixation): one the browser had before ends.
      const old = readCookie(request, SESSION_COOKIE);
      if (old) await endSessionOf(db, old, at);
      const secret = await startSession(db, account, at);
      await stampAdminSignIn(db, account.id, at);
      reply.header('set-cookie', sessionCookie(request, secret, opts.config.publicUrl));
      if (json) return { UserName: account.user_name, Role: account.role, Tenant: await tenantName(db, account.tenant_id), CsrfToken: csrfTokenFor(secret) };
      // The admin center's start page once it is served, else the signed-in page.
      return reply.redirect(app.hasRoute({ method: 'GET', url: '/' }) ? '/' : '/signin', 303);
    });

    scope.post('/signout', { schema: { hide: true } }, async (request, reply) => {
      const secret = readCookie(request, SESSION_COOKIE);
      const s = secret ? await checkSession(db, secret, now()) : undefined;
      if (secret && s && 'account' in s) {
        if (!csrfMatches(secret, request.headers[CSRF_HEADER] ?? field(request, CSRF_FIELD))) {
          throw new HttpError(403, 'CsrfTokenMissing', 'signing out needs the session\'s CSRF token (the sign-out button sends it): reload the page and try again');
        }
        await endSessionOf(db, secret, now());
      }
      reply.header('set-cookie', clearedSessionCookie(request, opts.config.publicUrl));
      return wantsJson(request) ? reply.status(204).send() : reply.redirect('/signin', 303);
    });

    scope.get('/signin/setup', { schema: { hide: true } }, async (request, reply) => {
      const code = String((request.query as Record<string, unknown>).code ?? '');
      const account = await setupAccount(db, code, now());
      return html(reply, 200, setPasswordPage({ code, userName: account.user_name, minLength: MIN_PASSWORD_LENGTH }));
    });

    scope.post('/signin/setup', { schema: { hide: true } }, async (request, reply) => {
      const code = field(request, 'Code');
      const password = field(request, 'Password');
      const account = await setupAccount(db, code, now());
      const problem = passwordProblem(password) ?? (password !== field(request, 'ConfirmPassword') ? 'the two passwords differ: type the same password twice' : undefined);
      if (problem) {
        if (wantsJson(request)) throw new HttpError(400, 'Usage', problem);
        return html(reply, 400, setPasswordPage({ code, userName: account.user_name, minLength: MIN_PASSWORD_LENGTH, error: problem.replace(/^t/, 'T') + '.' }));
      }
      // The code is used up in the same UPDATE that sets the password: of two posts racing with one link, one wins.
      if (!(await setAdminPassword(db, account.id, sha256(code), await hashPassword(password)))) throw linkNotValid();
      return wantsJson(request) ? { Message: `the password of ${account.user_name} is set: sign in at /signin` } : reply.redirect('/signin?setup=done', 303);
    });
  });
}
