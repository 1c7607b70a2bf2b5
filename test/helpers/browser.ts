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

/**
 * The page's accessibility violations that axe-core rates serious or critical, as lines (none: []). Every rule runs;
 * two settings only spare work whose result is thrown away, which made axe most of a browser test's time:
 * resultTypes keeps one example node of passes and inapplicable rules instead of all (the violations stay whole),
 * and a page without frames is checked with axe.run in the page itself (legacy mode) instead of axe-core/playwright's
 * runPartial, which injects axe again into a blank page to merge frames' results there. A page with frames keeps
 * that path, so each frame is still checked.
 */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  const builder = new AxeBuilder({ page }).options({ resultTypes: ['violations'] });
  if (page.frames().length === 1) builder.setLegacyMode();
  const r = await builder.analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
}
