// The web admin center (issue 10 §3), served by `mms serve` at /: server-rendered pages for a signed-in admin, in
// the browser's language or the one picked with the switch. Pages read through the cmdlets as the admin (PageContext.run,
// with the REST routes' role and tenant rules); their forms send changes to the REST API from the browser
// (assets/admin.js). A request without a session is sent to /signin. Tokens do not open pages: they are for scripts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Cmdlet } from '../../cli/cmdlet.js';
import { toJsonValue } from '../../cli/format.js';
import type { Config } from '../../config.js';
import { MmsError } from '../../domain/errors.js';
import type { Db } from '../../store/index.js';
import { listTenants } from '../../store/directory-repo.js';
import type { Authenticator, Caller } from '../auth.js';
import { bindRequestArgs } from '../bind-args.js';
import { HttpError, STATUS } from '../errors.js';
import { allows } from '../routes.js';
import { runCmdletAs } from '../run-as.js';
import { readCookie } from '../sessions.js';
import { loadAssets, type Asset } from './assets.js';
import { isLang, LANG_COOKIE, negotiateLanguage } from './i18n.js';
import { esc, formatTime, layout, NAV_PATHS } from './layout.js';
import type { AdminPage, PageContext } from './page.js';
import { PAGES } from './pages/index.js';
import { registerTelemetryRelay } from './telemetry-relay.js';

/** Scripts and styles from MMS only (no inline ones), API calls to MMS only, forms to MMS only, never framed. */
export const ADMIN_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** A ServiceAdmin's pick among the deployment's tenants (the header's switch sets it with ?tenant=). */
const TENANT_COOKIE = 'mms_tenant';
const YEAR_S = 365 * 86_400;

export interface AdminCenterOptions {
  readonly db: Db;
  readonly config: Config;
  readonly now: () => number;
  readonly auth: Authenticator;
  readonly cmdlets: readonly Cmdlet[];
}

function sendAsset(reply: FastifyReply, asset: Asset | undefined): FastifyReply {
  if (!asset) throw new HttpError(404, 'NotFound', 'no such file in the admin center');
  // Revalidated every time (they change with an upgrade, and are a few kB): no-cache, not no-store.
  return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
}

/** A cookie's percent-encoded text, or undefined when it is missing or not valid encoding (a hand-edited cookie). */
function cookieText(raw: string | undefined): string | undefined {
  try {
    return raw ? decodeURIComponent(raw) : undefined;
  } catch {
    return undefined;
  }
}

function queryOf(request: FastifyRequest): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(request.url.split('?')[1] ?? '')) {
    const had = out[k];
    out[k] = had === undefined ? v : [...[had].flat(), v];
  }
  return out;
}

export async function registerAdminCenter(app: FastifyInstance, opts: AdminCenterOptions): Promise<void> {
  const { own, vendor } = loadAssets();
  app.get('/static/admin/:file', { schema: { hide: true } }, async (request, reply) => sendAsset(reply, own.get((request.params as { file: string }).file)));
  app.get('/static/vendor/:file', { schema: { hide: true } }, async (request, reply) => sendAsset(reply, vendor.get((request.params as { file: string }).file)));
  const byName = new Map(opts.cmdlets.map((c) => [c.name, c] as const));
  registerTelemetryRelay(app, opts, TENANT_COOKIE);

  for (const page of PAGES) {
    app.get(page.path, { schema: { hide: true } }, async (request, reply) => {
      const query = queryOf(request);
      const cookieLang = readCookie(request, LANG_COOKIE);
      // ?lang= (the switch) is remembered, then the clean address is shown.
      if (typeof query.lang === 'string' && isLang(query.lang)) {
        reply.header('set-cookie', `${LANG_COOKIE}=${query.lang}; Path=/; SameSite=Strict; Max-Age=${YEAR_S}`);
        const rest = new URLSearchParams(request.url.split('?')[1] ?? '');
        rest.delete('lang');
        return reply.redirect(`${request.url.split('?')[0]}${[...rest].length ? `?${rest}` : ''}`, 303);
      }
      if (typeof query.tenant === 'string') {
        // Back to the section's list: a detail page (a user, a request) names something of the tenant left behind.
        reply.header('set-cookie', `${TENANT_COOKIE}=${encodeURIComponent(query.tenant)}; Path=/; SameSite=Strict; HttpOnly; Max-Age=${YEAR_S}`);
        return reply.redirect(NAV_PATHS[page.nav], 303);
      }
      const lang = negotiateLanguage(request.headers['accept-language'], cookieLang);
      let caller: Caller;
      let refused: HttpError | undefined;
      try {
        // Any signed-in admin gets the frame; a page above their role says so inside it (not the API's JSON).
        caller = await opts.auth.principal(request, 'ReadOnly');
        if (caller.csrfToken === undefined) throw new HttpError(401, 'Unauthorized', 'the admin center needs a browser session: sign in at /signin');
        if (!allows(caller.role, page.role ?? 'ReadOnly')) refused = new HttpError(403, 'Forbidden', `you are signed in as ${caller.name}, a ${caller.role}; this page needs ${page.role} or above`);
      } catch (err) {
        if (err instanceof HttpError && err.status === 401) return reply.redirect('/signin', 303);
        throw err;
      }
      const tenants = await listTenants(opts.db.kysely);
      const picked = caller.tenantId === null ? cookieText(readCookie(request, TENANT_COOKIE)) : undefined;
      const tenant = caller.tenantId !== null ? tenants.find((t) => t.id === caller.tenantId) : tenants.find((t) => t.name === picked) ?? tenants[0];
      const ctx = pageContext(opts, byName, { lang, caller, query, tenant: caller.tenantId === null ? tenant?.name : undefined });
      const path = request.url.split('?')[0]!;
      let status = 200;
      let rendered;
      try {
        if (refused) throw refused;
        rendered = await page.render(ctx, request.params as Record<string, string>);
      } catch (err) {
        // The page's reading failed (a bad filter, a user that does not exist): the frame with the one-line reason.
        const [code, text] = err instanceof HttpError ? [err.status, err.message] : err instanceof MmsError ? [STATUS[err.code], err.message] : [500, `the page failed inside MMS; the service log has the details under request id ${request.id}`];
        if (code >= 500) request.log.error({ err }, 'admin center page failed');
        status = code;
        rendered = { title: `${code}`, body: `<p class="alert" role="alert">${esc(text)}</p>` };
      }
      const html = layout(ctx, page.nav, path, rendered, tenant?.name ?? '—', tenants.map((x) => x.name));
      return reply.status(status).header('content-security-policy', ADMIN_CSP).type('text/html; charset=utf-8').send(html);
    });
  }
}

function pageContext(opts: AdminCenterOptions, byName: ReadonlyMap<string, Cmdlet>, base: Pick<PageContext, 'lang' | 'caller' | 'query' | 'tenant'>): PageContext {
  const now = opts.now();
  const run: PageContext['run'] = async (name, fields = {}) => {
    const cmdlet = byName.get(name);
    if (!cmdlet) throw new Error(`the admin center asked for a cmdlet that does not exist: ${name}`);
    const parsed = bindRequestArgs(cmdlet, [fields]);
    return runCmdletAs(opts, base.caller, cmdlet, parsed.args, parsed.tenant ?? base.tenant);
  };
  return {
    ...base,
    csrfToken: base.caller.csrfToken ?? '',
    now,
    run,
    rows: async (name, fields) => {
      const r = await run(name, fields);
      return r.kind === 'rows' ? (toJsonValue(r.rows) as Record<string, unknown>[]) : [];
    },
    value: async (name, fields) => {
      const r = await run(name, fields);
      return r.kind === 'object' ? (toJsonValue(r.value) as Record<string, unknown>) : {};
    },
    may: (role) => allows(base.caller.role, role),
    formatTime: (v) => formatTime(base.lang, v),
  };
}

export type { AdminPage };
