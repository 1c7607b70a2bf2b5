// The admin center for browser tests: `mms serve` (the built bundle, as users run it) on a fresh database of the
// given kind with the demo organization, its first admin's password set through the one-time link, and a browser
// context signed in as that admin. `stop()` ends the browser context, the service and the database.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BIN, ROOT, childEnv } from './built-dist.js';
import type { TestDatabase } from './databases.js';
import { freshDemo, type FreshDatabase } from './demo-template.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface AdminCenter {
  readonly base: string;
  readonly child: ChildProcess;
  readonly fresh: FreshDatabase;
  readonly context: BrowserContext;
  readonly page: Page;
  /** The service's output so far (stdout and stderr), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** `mms serve` on `url`: resolves with its address and the first admin's set-up link once both are printed. */
export function serveWithLink(url: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; base: string; link: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: ROOT, env: childEnv({ MMS_DATABASE_URL: url, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const check = () => {
      const listening = out.split('\n').find((l) => l.includes('"REST API listening'));
      const link = /^\s+(http:\/\/\S+\/signin\/setup\?code=\S+)$/m.exec(out)?.[1];
      if (listening && link) resolve({ child, base: (JSON.parse(listening) as { url: string }).url, link, output: () => out });
    };
    child.stdout!.setEncoding('utf8').on('data', (c: string) => ((out += c), check()));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('exit', (code) => reject(new Error(`mms serve exited ${code} before it printed the sign-in link:\n${out}`)));
  });
}

/** A browser context signed in as `userName`, whose password is set first through its one-time `link`. */
export async function signedInContext(browser: Browser, base: string, link: string, userName: string, locale = 'en-US'): Promise<BrowserContext> {
  const context = await browser.newContext({ locale });
  const code = new URL(link).searchParams.get('code')!;
  const setup = await context.request.post(`${base}/signin/setup`, { data: { Code: code, Password: ADMIN_PASSWORD, ConfirmPassword: ADMIN_PASSWORD } });
  if (!setup.ok()) throw new Error(`setting the password of ${userName} failed: ${setup.status()} ${await setup.text()}`);
  const signIn = await context.request.post(`${base}/signin`, { data: { UserName: userName, Password: ADMIN_PASSWORD } });
  if (!signIn.ok()) throw new Error(`signing in as ${userName} failed: ${signIn.status()} ${await signIn.text()}`);
  return context;
}

/**
 * A signed-in admin center on a fresh `t` database. `demo` (default true): the database holds the demo organization
 * as `mms serve` loads it on first start (a copy of the run's template: demo-template.ts), an empty one otherwise;
 * either way the service loads nothing itself. `locale` is the browser's language (Accept-Language follows it).
 */
export async function startAdminCenter(browser: Browser, t: TestDatabase, opts: { demo?: boolean; locale?: string; env?: Record<string, string> } = {}): Promise<AdminCenter> {
  const fresh = opts.demo === false ? await t.fresh() : await freshDemo(t);
  const mms = await serveWithLink(fresh.url, { MMS_DEMO: 'false', ...opts.env });
  let context: BrowserContext | undefined;
  const stop = async () => {
    await context?.close().catch(() => undefined);
    if (mms.child.exitCode === null) {
      mms.child.kill('SIGTERM');
      await new Promise((r) => mms.child.once('exit', r));
    }
    await fresh.drop();
  };
  try {
    context = await signedInContext(browser, mms.base, mms.link, 'admin', opts.locale);
    const page = await context.newPage();
    return { base: mms.base, child: mms.child, fresh, context, page, output: mms.output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
