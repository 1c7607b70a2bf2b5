// The admin center's telemetry (served at /static/admin/client-telemetry.js, loaded by every page): census once a day per
// browser, usage (which page was opened), and error reports of this page's script errors — the last only when the
// service says the admin opted in (the SDK asks POST …/config, the relay answers for the session's admin, and sends nothing that would be refused). It talks to
// the same-origin relay (src/http/admin/telemetry-relay.ts), authenticated by the session cookie and the page's CSRF
// token, through the telemetry SDK the service serves (the package's own build). Telemetry never disturbs the page:
// every failure is swallowed, and what could not be sent waits in the SDK for its next try while the page is open.

const csrf = document.querySelector('meta[name="mms-csrf"]')?.getAttribute('content') ?? '';
const CENSUS_DAY = 'mms-telemetry-census-day';

/** 'page.users' for /users and /users/{Identity}, 'page.dashboard' for /. */
function pageFeature() {
  const first = location.pathname.split('/').filter(Boolean)[0] ?? 'dashboard';
  return `page.${first.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 58) || 'dashboard'}`;
}

/** What census says about this browser: its brand, the OS family, no version (that would need high-entropy hints). */
function device() {
  const ua = navigator.userAgentData;
  // Chromium lists a GREASE brand such as "Not:A-Brand" (first, at times); its colon is refused in clear-text fields.
  const brands = (ua?.brands ?? []).map((b) => b.brand).filter((b) => !/not.a.brand/i.test(b));
  const brand = brands.find((b) => b !== 'Chromium') ?? brands[0] ?? 'Browser';
  const plain = (s) => s.replace(/[^A-Za-z0-9 ._-]/g, '').slice(0, 64) || 'unknown';
  return {
    DeviceModel: plain(brand),
    OsName: plain(ua?.platform || navigator.platform || 'unknown'),
    OsVersion: 'unknown',
    UserLanguage: /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(navigator.language) ? navigator.language : document.documentElement.lang,
  };
}

async function start() {
  const session = await fetch('/admin/telemetry/session', { credentials: 'same-origin' });
  if (!session.ok) return;
  const s = await session.json();
  if (!s.Enabled) return;
  const { TelemetryClient } = await import('/static/telemetry/sdk.js');
  const client = new TelemetryClient({
    serverUrl: `${location.origin}/admin`, headers: () => ({ 'x-csrf-token': csrf }),
    appName: s.AppName, appVersion: s.AppVersion, userId: s.UserName, deviceIdStore: 'localStorage',
  });
  const today = new Date().toISOString().slice(0, 10);
  // Census needs crypto.subtle to hash the name, which a page on plain http (not localhost) lacks: without census the
  // page still reports usage and errors, and tries census again on the next page.
  if (localStorage.getItem(CENSUS_DAY) !== today) {
    try {
      await client.census(device());
      localStorage.setItem(CENSUS_DAY, today);
    } catch { /* no census from this page */ }
  }
  await client.usage({ FeaturesUsed: { [pageFeature()]: 1 } });
  const report = (code, message, stack) => void client.error({ ErrorCode: code, Message: String(message).slice(0, 2000), ...(stack ? { Exception: String(stack).slice(0, 8000) } : {}) }).catch(() => undefined);
  addEventListener('error', (e) => report('ScriptError', e.message, e.error?.stack));
  addEventListener('unhandledrejection', (e) => report('UnhandledRejection', e.reason?.message ?? e.reason, e.reason?.stack));
  // Leaving the page: what waits goes now (the SDK's requests use keepalive, so they outlive the page).
  addEventListener('pagehide', () => void client.flush());
  await client.flush();
  // Says the page reports (its config read, its listeners on): what the browser tests wait for.
  document.body.dataset.telemetry = 'on';
}

start().catch(() => undefined);
