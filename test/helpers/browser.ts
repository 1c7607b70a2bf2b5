// A real browser for the web tests: Debian's chromium through playwright-core (npx playwright install cannot run
// here). A machine without it skips those tests and says why; MMS_REQUIRE_ALL=1 (CI) fails instead.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { REQUIRE_ALL } from './databases.js';
import { after, before } from 'node:test';
import { ensureBuiltDist, ROOT } from './built-dist.js';

export const CHROMIUM = process.env.MMS_CHROMIUM || '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export const browserSkip: string | undefined = fs.existsSync(CHROMIUM)
  ? undefined
  : `Chromium is not installed at ${CHROMIUM}; install the Debian package chromium (apt-get install chromium) or set MMS_CHROMIUM`;
if (browserSkip && REQUIRE_ALL) throw new Error(`MMS_REQUIRE_ALL=1 but ${browserSkip}`);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/**
 * For a describe() of browser tests: the built dist/ and one Chromium, launched before the suite's tests and closed
 * after them. Returns the browser's getter (it exists once the suite's `before` has run).
 */
export function suiteBrowser(): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    ensureBuiltDist();
    browser = await launchBrowser();
  }, { timeout: 300_000 });
  after(async () => browser?.close());
  return () => {
    if (!browser) throw new Error('the suite\'s browser is not launched yet: call it inside a test');
    return browser;
  };
}

/** Where the tests leave a screenshot of each page for a reviewer (README: "Screenshots"). */
export const SCREENSHOTS = path.join(ROOT, 'screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The page's accessibility violations that axe-core rates serious or critical, as lines (none: []). */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
}
