// Web sign-in (issue 10 §2): admin accounts with a one-time set-up link, scrypt passwords, session cookies with idle
// and absolute timeouts, CSRF tokens on every change made with a cookie, a sign-in rate limit without user
// enumeration, and tenant-bound account management. Fastify inject on both databases, on an injected clock.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { loadConfig } from '../src/config.js';
import { resolveTenant } from '../src/directory/index.js';
import { createAdmin, firstAdminNotice } from '../src/http/admin-accounts.js';
import { buildApi } from '../src/http/app.js';
import type { Role } from '../src/http/routes.js';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';

const NOW = Date.UTC(2026, 10, 30, 12);
const MIN = 60_000;
const HOUR = 60 * MIN;
const GOOD = 'correct horse battery';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const cookieOf = (r: LightMyRequestResponse) => /^mms_session=([^;]*)/.exec(String(r.headers['set-cookie'] ?? ''))?.[1] ?? '';

for (const t of TEST_DATABASES) {
  describe(`${t.name}: web sign-in`, { skip: t.skip }, () => {
    let fresh: Awaited<ReturnType<typeof t.fresh>>;
    let app: FastifyInstance;
    let proxied: FastifyInstance;
    let clock = NOW;
    const mms = (env: Record<string, string>, ...argv: string[]) => runMms({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'tester', ...env }, () => clock, argv);
    const tenants: Record<string, Awaited<ReturnType<typeof resolveTenant>>> = {};

    /** An account whose password is set through its link, as the admin would. */
    async function account(userName: string, role: Role, tenant: string | null): Promise<void> {
      const { code } = await createAdmin(fresh.db, { userName, role, tenant: tenant ? tenants[tenant]! : null, actor: 'tester', now: clock });
      const r = await app.inject({ method: 'POST', url: '/signin/setup', headers: FORM, payload: form({ Code: code, Password: GOOD, ConfirmPassword: GOOD }) });
      assert.equal(r.statusCode, 303, r.body);
    }
    const signIn = (UserName: string, Password: string, remoteAddress = '10.0.0.1', on = app, headers: Record<string, string> = {}) =>
      on.inject({ method: 'POST', url: '/signin', remoteAddress, headers: { ...FORM, ...headers }, payload: form({ UserName, Password }) });
    async function session(userName: string): Promise<{ cookie: string; csrf: string }> {
      const r = await signIn(userName, GOOD, `10.1.0.${userName.length}`);
      assert.equal(r.statusCode, 303, r.body);
      const cookie = cookieOf(r);
      const s = await app.inject({ method: 'GET', url: '/api/v1/session', cookies: { mms_session: cookie } });
      assert.equal(s.statusCode, 200, s.body);
      return { cookie, csrf: s.json().CsrfToken };
    }
    const withSession = (s: { cookie: string; csrf?: string }, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
      app.inject({ method, url, cookies: { mms_session: s.cookie }, headers: s.csrf ? { 'x-csrf-token': s.csrf } : {}, ...(payload ? { payload: payload as never } : {}) });

    before(async () => {
      fresh = await t.fresh();
      for (const argv of [['New-MmsTenant', 'Contoso', '-Domain', 'contoso.com'], ['New-MmsTenant', 'Fabrikam', '-Domain', 'fabrikam.com']]) {
        const r = await mms({}, ...argv);
        assert.equal(r.code, 0, r.err);
      }
      tenants.Contoso = await resolveTenant(fresh.db, 'Contoso');
      tenants.Fabrikam = await resolveTenant(fresh.db, 'Fabrikam');
      const config = loadConfig({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0' });
      app = await buildApi({ db: fresh.db, config, cmdlets: CMDLETS, now: () => clock });
      proxied = await buildApi({ db: fresh.db, config: loadConfig({ MMS_DATABASE_URL: fresh.url, MMS_TRUST_PROXY: 'true' }), cmdlets: CMDLETS, now: () => clock });
      await account('megan', 'TenantAdmin', 'Contoso');
      await account('fred', 'TenantAdmin', 'Fabrikam');
    });
    after(async () => {
      await app?.close();
      await proxied?.close();
      await fresh?.drop();
    });

    it('New-MmsAdmin prints a one-time sign-in link on MMS_HTTP_ADDRESS or MMS_PUBLIC_URL; the rules of -Tenant are the tokens\'', async () => {
      const r = await mms({}, 'New-MmsAdmin', 'olga', '-Role', 'Operator', '-Tenant', 'Contoso', '--json');
      assert.equal(r.code, 0, r.err);
      assert.match(JSON.parse(r.out).SignInLink, /^http:\/\/127\.0\.0\.1:8080\/signin\/setup\?code=[A-Za-z0-9_-]{43}$/);
      const p = await mms({ MMS_PUBLIC_URL: 'https://mms.contoso.com/' }, 'New-MmsAdmin', 'paul', '-Role', 'ReadOnly', '-Tenant', 'Contoso', '--json');
      assert.match(JSON.parse(p.out).SignInLink, /^https:\/\/mms\.contoso\.com\/signin\/setup\?code=/);
      // As for tokens: a ServiceAdmin belongs to no tenant (MMS_TENANT does not bind it); the others need one.
      const svc = await mms({ MMS_TENANT: 'Contoso' }, 'New-MmsAdmin', 'root', '-Role', 'ServiceAdmin', '--json');
      assert.equal(svc.code, 0, svc.err);
      assert.equal(JSON.parse(svc.out).Tenant, '(all)');
      const noTenant = await mms({}, 'New-MmsAdmin', 'tina', '-Role', 'TenantAdmin');
      assert.equal(noTenant.code, 2, noTenant.err);
      assert.match(noTenant.err, /-Tenant/);
      const twice = await mms({}, 'New-MmsAdmin', 'OLGA', '-Role', 'Operator', '-Tenant', 'Contoso');
      assert.equal(twice.code, 1);
      const list = await mms({}, 'Get-MmsAdmin', '-Tenant', 'Contoso', '--json');
      const rows = JSON.parse(list.out) as Array<Record<string, unknown>>;
      assert.deepEqual(rows.map((x) => [x.UserName, x.Tenant, x.State]), [['megan', 'Contoso', 'Active'], ['olga', 'Contoso', 'WaitingForPassword'], ['paul', 'Contoso', 'WaitingForPassword']]);
      assert.doesNotMatch(list.out, /scrypt|code=/);
      const stored = await fresh.db.kysely.selectFrom('admin_accounts').select('password_hash').where('user_name_key', '=', 'megan').executeTakeFirstOrThrow();
      assert.match(stored.password_hash!, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    });

    it('the set-up link works once, not after 24 h, and refuses a password shorter than 12 characters', async () => {
      const { code } = await createAdmin(fresh.db, { userName: 'quinn', role: 'Operator', tenant: tenants.Contoso!, actor: 'tester', now: clock });
      const page = await app.inject({ method: 'GET', url: `/signin/setup?code=${code}` });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<form method="post" action="\/signin\/setup">/);
      const post = (Password: string, ConfirmPassword = Password) => app.inject({ method: 'POST', url: '/signin/setup', headers: FORM, payload: form({ Code: code, Password, ConfirmPassword }) });
      const short = await post('eleven char');
      assert.equal(short.statusCode, 400);
      assert.match(short.body, /at least 12 characters/);
      assert.equal((await post(GOOD, `${GOOD}!`)).statusCode, 400);
      const ok = await post(GOOD);
      assert.equal(ok.statusCode, 303);
      assert.equal(ok.headers.location, '/signin?setup=done');
      const again = await post('another long password');
      assert.equal(again.statusCode, 410);
      assert.match(again.body, /used already/);
      assert.equal((await app.inject({ method: 'GET', url: `/signin/setup?code=${code}` })).statusCode, 410);
      assert.equal((await signIn('quinn', GOOD, '10.2.0.1')).statusCode, 303, 'the first password stays');
      const old = await createAdmin(fresh.db, { userName: 'rita', role: 'Operator', tenant: tenants.Contoso!, actor: 'tester', now: clock - 24 * HOUR });
      const expired = await app.inject({ method: 'GET', url: `/signin/setup?code=${old.code}` });
      assert.equal(expired.statusCode, 410);
      assert.match(expired.body, /expired on/);
      const json = await app.inject({ method: 'POST', url: '/signin/setup', payload: { Code: old.code, Password: GOOD, ConfirmPassword: GOOD } });
      assert.equal(json.statusCode, 410);
      assert.equal(json.json().error, 'LinkExpired');
    });

    it('signing in sets an HttpOnly, SameSite=Strict cookie, Secure only over HTTPS (X-Forwarded-Proto only with MMS_TRUST_PROXY)', async () => {
      const r = await signIn('megan', GOOD, '10.3.0.1');
      assert.equal(r.statusCode, 303);
      const cookie = String(r.headers['set-cookie']);
      assert.match(cookie, /^mms_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
      const spoofed = await signIn('megan', GOOD, '10.3.0.1', app, { 'x-forwarded-proto': 'https' });
      assert.doesNotMatch(String(spoofed.headers['set-cookie']), /Secure/);
      const behindTls = await signIn('megan', GOOD, '10.3.0.1', proxied, { 'x-forwarded-proto': 'https' });
      assert.match(String(behindTls.headers['set-cookie']), /; HttpOnly; SameSite=Strict; Secure$/);
      // Admins reach it at an https:// MMS_PUBLIC_URL: Secure even when the proxy's scheme is not believed.
      const published = await buildApi({ db: fresh.db, config: loadConfig({ MMS_DATABASE_URL: fresh.url, MMS_PUBLIC_URL: 'https://mms.contoso.com' }), cmdlets: CMDLETS, now: () => clock });
      try {
        assert.match(String((await signIn('megan', GOOD, '10.3.0.1', published)).headers['set-cookie']), /; Secure$/);
      } finally {
        await published.close();
      }
      const stored = await fresh.db.kysely.selectFrom('web_sessions').select('id_sha256').execute();
      assert.ok(!stored.some((s) => s.id_sha256 === cookieOf(r)), 'only a hash of the cookie is stored');
      const elsewhere = await signIn('megan', GOOD, '10.3.0.1', app, { origin: 'https://evil.example', host: 'mms.contoso.com' });
      assert.equal(elsewhere.statusCode, 403, 'a sign-in form posted from another site');
      assert.equal((await signIn('megan', GOOD, '10.3.0.1', app, { origin: 'http://mms.contoso.com', host: 'mms.contoso.com' })).statusCode, 303);
      const page = await app.inject({ method: 'GET', url: '/signin' });
      assert.match(String(page.headers['content-security-policy']), /default-src 'none'; style-src 'self'/);
      assert.doesNotMatch(page.body, /<script|style=/);
      const css = await app.inject({ method: 'GET', url: '/static/signin.css' });
      assert.match(String(css.headers['content-type']), /^text\/css/);
    });

    it('a wrong password and an unknown user get the same answer; the 6th failure from an address and the 51st for a user name are 429; nobody locks an account out from one address', async () => {
      const json = (UserName: string, Password: string, remoteAddress: string) => app.inject({ method: 'POST', url: '/signin', remoteAddress, payload: { UserName, Password } });
      const wrong = await json('megan', 'not the password!', '10.4.0.1');
      const unknown = await json('nobody', 'not the password!', '10.4.0.2');
      const pending = await json('olga', 'not the password!', '10.4.0.3');
      assert.equal(wrong.statusCode, 401);
      assert.deepEqual([unknown.statusCode, unknown.body], [wrong.statusCode, wrong.body]);
      assert.deepEqual([pending.statusCode, pending.body], [wrong.statusCode, wrong.body]);
      const page = await signIn('megan', 'not the password!', '10.4.0.4');
      const pageUnknown = await signIn('nobody', 'not the password!', '10.4.0.5');
      assert.equal(page.statusCode, 401);
      assert.equal(pageUnknown.body.replace('value="nobody"', 'value="megan"'), page.body);
      // megan has 2 failures: 5 from one more address lock out that address, not megan.
      for (const i of [1, 2, 3, 4, 5]) assert.equal((await signIn('megan', 'wrong again!', '10.4.1.1')).statusCode, 401, `failure ${i}`);
      assert.equal((await signIn('megan', GOOD, '10.4.1.1')).statusCode, 429, 'the address is locked out');
      assert.equal((await signIn('megan', GOOD, '10.4.1.2')).statusCode, 303, 'megan is not');
      // Guesses at one name from many addresses (5 each): after 50 in the window even the right password is refused.
      for (let i = 0; i < 50; i++) assert.equal((await signIn('megan', 'wrong again!', `10.5.${Math.floor(i / 5)}.1`)).statusCode, 401, `guess ${i + 1}`);
      const locked = await signIn('megan', GOOD, '10.5.99.1');
      assert.equal(locked.statusCode, 429);
      assert.equal(locked.headers['retry-after'], String(15 * 60));
      assert.match(locked.body, /too many failed sign-ins/i);
      // One address trying many names is limited too.
      for (const name of ['a1', 'a2', 'a3', 'a4', 'a5']) assert.equal((await signIn(name, 'wrong again!', '10.4.2.1')).statusCode, 401);
      assert.equal((await signIn('fred', GOOD, '10.4.2.1')).statusCode, 429);
      assert.equal((await signIn('fred', GOOD, '10.4.2.2')).statusCode, 303);
      // Behind the proxy (MMS_TRUST_PROXY), the address is the one the proxy saw: X-Forwarded-For entries the client
      // wrote itself (all but the last) change nothing.
      for (const [i, name] of ['b1', 'b2', 'b3', 'b4', 'b5'].entries()) {
        assert.equal((await signIn(name, 'wrong again!', '10.0.0.254', proxied, { 'x-forwarded-for': `192.0.2.${i}, 10.4.3.1` })).statusCode, 401);
      }
      assert.equal((await signIn('fred', GOOD, '10.0.0.254', proxied, { 'x-forwarded-for': '192.0.2.99, 10.4.3.1' })).statusCode, 429);
      clock += 15 * MIN;
      assert.equal((await signIn('megan', GOOD, '10.4.1.1')).statusCode, 303, 'the limit ends after 15 min');
    });

    it('a burst of parallel guesses meets the limit too: no sign-in among them succeeds, at most 5 passwords are checked', async () => {
      await account('burst', 'ReadOnly', 'Contoso');
      const guesses = Array.from({ length: 30 }, (_, i) => signIn('burst', `wrong password ${i}!`, '10.9.0.1'));
      const rightOne = signIn('burst', GOOD, '10.9.0.1');
      const all = await Promise.all([...guesses, rightOne]);
      const codes = all.map((r) => r.statusCode);
      assert.ok(!codes.includes(303), `a sign-in in the burst succeeded: ${codes.join(' ')}`);
      assert.ok(codes.filter((c) => c === 401).length <= 5, `more than 5 passwords were checked: ${codes.join(' ')}`);
      assert.ok(codes.every((c) => c === 401 || c === 429 || c === 503), codes.join(' '));
    });

    it('a session ends after 30 min idle or 12 h in all', async () => {
      const s = await session('megan');
      const who = () => withSession({ cookie: s.cookie }, 'GET', '/api/v1/session');
      assert.deepEqual(await who().then((r) => r.json()), { UserName: 'megan', Role: 'TenantAdmin', Tenant: 'Contoso', Actor: 'web:megan', CsrfToken: s.csrf });
      const start = clock;
      while (clock < start + 12 * HOUR - 29 * MIN) {
        clock += 29 * MIN;
        assert.equal((await who()).statusCode, 200, `active after ${(clock - start) / MIN} min`);
      }
      clock = start + 12 * HOUR;
      const old = await who();
      assert.equal(old.statusCode, 401);
      assert.match(old.json().message, /older than 12 h: sign in again at \/signin/);
      const idle = await session('megan');
      clock += 30 * MIN;
      const r = await withSession({ cookie: idle.cookie }, 'GET', '/api/v1/session');
      assert.equal(r.statusCode, 401);
      assert.match(r.json().message, /idle for 30 min/);
    });

    it('a change made with the cookie needs the CSRF token (403 without or with a wrong one); the audit log names web:<UserName>', async () => {
      const s = await session('megan');
      const none = await withSession({ cookie: s.cookie }, 'PATCH', '/api/v1/dial-in-settings', { PinLength: 8 });
      assert.equal(none.statusCode, 403);
      assert.equal(none.json().error, 'CsrfTokenMissing');
      const bad = await withSession({ cookie: s.cookie, csrf: 'f'.repeat(64) }, 'PATCH', '/api/v1/dial-in-settings', { PinLength: 8 });
      assert.equal(bad.statusCode, 403);
      const before = JSON.parse((await mms({}, 'Get-CsOnlineDialInConferencingTenantSettings', '-Tenant', 'Contoso', '--json')).out);
      assert.notEqual(before.PinLength, 8, 'the refused changes were not made');
      const ok = await withSession(s, 'PATCH', '/api/v1/dial-in-settings', { PinLength: 8 });
      assert.equal(ok.statusCode, 200, ok.body);
      const audit = JSON.parse((await mms({}, 'Get-MmsAuditLog', '-Tenant', 'Contoso', '--json')).out) as Array<Record<string, unknown>>;
      assert.equal(audit.find((a) => a.Cmdlet === 'Set-CsOnlineDialInConferencingTenantSettings')?.Actor, 'web:megan');
    });

    it('signing out needs the CSRF token and ends the session', async () => {
      const s = await session('megan');
      const forged = await app.inject({ method: 'POST', url: '/signout', cookies: { mms_session: s.cookie }, headers: FORM, payload: '' });
      assert.equal(forged.statusCode, 403);
      assert.equal((await withSession({ cookie: s.cookie }, 'GET', '/api/v1/session')).statusCode, 200);
      const out = await app.inject({ method: 'POST', url: '/signout', cookies: { mms_session: s.cookie }, headers: FORM, payload: form({ CsrfToken: s.csrf }) });
      assert.equal(out.statusCode, 303);
      assert.match(String(out.headers['set-cookie']), /^mms_session=; .*Max-Age=0$/);
      const after = await withSession(s, 'GET', '/api/v1/session');
      assert.equal(after.statusCode, 401);
      assert.match(after.json().message, /session has ended/);
    });

    it('only a ServiceAdmin creates accounts over REST (names are deployment-wide); another tenant\'s admin can neither see nor remove Contoso\'s', async () => {
      const megan = await session('megan');
      // A TenantAdmin creating accounts would learn from a 409 which names other tenants use.
      const byTenantAdmin = await withSession(megan, 'POST', '/api/v1/admins', { UserName: 'sam', Role: 'Operator' });
      assert.equal(byTenantAdmin.statusCode, 403);
      assert.match(byTenantAdmin.json().message, /this needs ServiceAdmin/);
      const made = await mms({}, 'New-MmsAdmin', 'sam', '-Role', 'Operator', '-Tenant', 'Contoso', '--json');
      assert.equal(made.code, 0, made.err);
      assert.equal(JSON.parse(made.out).Tenant, 'Contoso');
      const fred = await session('fred');
      const seen = await withSession(fred, 'GET', '/api/v1/admins');
      assert.deepEqual((seen.json() as Array<{ UserName: string }>).map((a) => a.UserName), ['fred']);
      assert.equal((await withSession(fred, 'GET', '/api/v1/admins?Tenant=Contoso')).statusCode, 404);
      const removed = await withSession(fred, 'DELETE', '/api/v1/admins/sam');
      assert.equal(removed.statusCode, 404);
      assert.doesNotMatch(removed.body, /Contoso|Operator/);
      const stillThere = JSON.parse((await mms({}, 'Get-MmsAdmin', '-Tenant', 'Contoso', '--json')).out) as Array<{ UserName: string }>;
      assert.ok(stillThere.some((a) => a.UserName === 'sam'));
      // Removing an account ends its sessions and revokes the tokens it made in the pages.
      const quinn = await session('quinn');
      const script = await withSession(megan, 'POST', '/api/v1/api-tokens', { Name: 'megan-script', Role: 'ReadOnly', ExpiresIn: 'never' });
      assert.equal(script.statusCode, 200, script.body);
      assert.equal((await withSession(megan, 'DELETE', '/api/v1/admins/quinn')).statusCode, 200);
      assert.equal((await withSession(quinn, 'GET', '/api/v1/session')).statusCode, 401);
      const audit = JSON.parse((await mms({}, 'Get-MmsAuditLog', '-Tenant', 'Contoso', '--json')).out) as Array<Record<string, unknown>>;
      assert.equal(audit.find((a) => a.Cmdlet === 'Remove-MmsAdmin')?.Actor, 'web:megan');
      const token = (script.json() as { Token: string }).Token;
      assert.equal((await app.inject({ method: 'GET', url: '/api/v1/migrations', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
      assert.equal((await mms({}, 'Remove-MmsAdmin', 'megan')).code, 0);
      const gone = await app.inject({ method: 'GET', url: '/api/v1/migrations', headers: { authorization: `Bearer ${token}` } });
      assert.equal(gone.statusCode, 401, 'a token made by a removed account stops working');
      assert.match(gone.json().message, /was revoked/);
    });

    it('first start creates the ServiceAdmin admin and its link once', async () => {
      const config = loadConfig({ MMS_DATABASE_URL: fresh.url });
      await fresh.db.kysely.deleteFrom('web_sessions').execute();
      await fresh.db.kysely.deleteFrom('admin_accounts').execute();
      // Two services starting together on a new database: one creates the account and prints the link.
      const [one, other] = await Promise.all([firstAdminNotice(fresh.db, config, 'http://127.0.0.1:45678', clock), firstAdminNotice(fresh.db, config, 'http://127.0.0.1:45679', clock)]);
      assert.equal([one, other].filter((n) => n !== undefined).length, 1, `${one}\n${other}`);
      const notice = one ?? other;
      assert.match(notice ?? '', /created the admin account 'admin' \(ServiceAdmin\)[^\n]*\n {2}http:\/\/127\.0\.0\.1:4567[89]\/signin\/setup\?code=[A-Za-z0-9_-]{43}\n/);
      assert.equal(await firstAdminNotice(fresh.db, config, 'http://127.0.0.1:45678', clock), undefined);
      const code = /code=([A-Za-z0-9_-]{43})/.exec(notice!)![1]!;
      assert.equal((await app.inject({ method: 'POST', url: '/signin/setup', headers: FORM, payload: form({ Code: code, Password: GOOD, ConfirmPassword: GOOD }) })).statusCode, 303);
      const s = await session('admin');
      const who = await withSession(s, 'GET', '/api/v1/session');
      assert.deepEqual([who.json().Role, who.json().Tenant], ['ServiceAdmin', '(all)']);
    });
  });
}
