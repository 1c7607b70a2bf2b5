// The dashboard's browser module (served at /static/admin/dashboard.js; pages/dashboard.ts renders the same parts
// on the server, so the page is whole without JavaScript). Every few seconds it repeats the page's REST reads and
// redraws what changed: the state tiles, the failed migrations with their Retry forms (admin.js sends those), the
// queue, the rate chart and its table, the outbox counts and the no-worker warning. uPlot is loaded as a classic
// script from MMS (CSP script-src 'self'), not imported: it ships as an IIFE that defines window.uPlot.

import { api, loadUPlot } from './admin.js';

const root = document.getElementById('dashboard');
const config = root ? JSON.parse(root.dataset.config ?? '{}') : null;
const lang = document.documentElement.lang || 'en';
const say = (key, vars = {}) => String(config?.text?.[key] ?? key).replace(/\{(\w+)\}/g, (m, n) => (n in vars ? String(vars[n]) : m));

const toMs = (v) => (typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN);
/** The server's formatTime (layout.ts): '30 Nov 2026, 21:05 UTC' in the page language. */
function formatTime(v) {
  const ms = toMs(v);
  if (!Number.isFinite(ms)) return v === null || v === undefined ? '—' : String(v);
  return `${new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC', hourCycle: 'h23' }).format(ms)} UTC`;
}
const formatMinute = (v) => new Intl.DateTimeFormat(lang, { dateStyle: 'short', timeStyle: 'short', timeZone: 'UTC', hourCycle: 'h23' }).format(toMs(v));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== undefined && c !== null) node.append(c);
  return node;
}

function table(id, caption, headings, rows) {
  const head = el('tr', {}, ...headings.map((h) => el('th', { scope: 'col', text: h })));
  return el('div', { class: 'table-wrap' }, el('table', { id }, el('caption', { text: caption }), el('thead', {}, head), el('tbody', {}, ...rows)));
}

/** A Retry form like the server's: Start-CsExMeetingMigration for `upns` through the REST API (admin.js sends it). */
function retryForm(upns, label, hidden, id) {
  const form = el('form', { class: 'retry', 'data-api': config.retryApi, 'data-method': 'POST', 'data-done': say('retryQueued'), 'data-result-target': 'dash-retry-result', id });
  for (const u of upns) form.append(el('input', { type: 'hidden', name: 'Identity', 'data-type': 'list', value: u }));
  const button = el('button', { type: 'submit', text: label });
  if (hidden) button.append(' ', el('span', { class: 'visually-hidden', text: hidden }));
  form.append(button);
  return form;
}

/** GET `url` through admin.js's api() (the session, a ServiceAdmin's tenant), with the listing's X-Total-Count; null when it failed (the next round tries again). */
async function read(url) {
  const res = await api('GET', url);
  return res.status === 200 ? { body: res.body, total: res.total } : null;
}

// What each part showed last: a part is rebuilt only when its data changed (a focused button stays put).
const shown = {};
function changed(key, data) {
  const json = JSON.stringify(data);
  if (shown[key] === json) return false;
  shown[key] = json;
  return true;
}

function showSummary(rows) {
  for (const tile of document.querySelectorAll('#dash-summary [data-state]')) {
    const row = rows.find((r) => r.State === tile.dataset.state);
    tile.textContent = String(row?.UserCount ?? 0);
  }
}

function showFailed(rows) {
  if (!changed('failed', rows)) return;
  const sorted = [...rows].sort((a, b) => toMs(b.ModifiedDate) - toMs(a.ModifiedDate));
  const upns = [...new Set(sorted.map((r) => String(r.UserPrincipalName)))];
  document.querySelector('#dash-failed [data-count]').textContent = String(sorted.length);
  const body = document.getElementById('dash-failed-body');
  if (sorted.length === 0) {
    body.replaceChildren(el('p', { class: 'empty', text: say('failedNone') }));
    return;
  }
  const headings = [say('user'), say('message'), say('failedAt'), say('attempts'), ...(config.canRetry ? [say('action')] : [])];
  const trs = sorted.slice(0, config.failedShown).map((r, i) => el('tr', { 'data-correlation-id': r.CorrelationId ?? '' },
    el('th', { scope: 'row', text: String(r.UserPrincipalName ?? '') }),
    el('td', { class: 'message', text: String(r.LastMessage ?? '') }),
    el('td', { text: formatTime(r.ModifiedDate) }),
    el('td', { text: String(r.RetryCount ?? '') }),
    config.canRetry ? el('td', {}, retryForm([String(r.UserPrincipalName)], say('retry'), String(r.UserPrincipalName), `dash-retry-${i}`)) : undefined));
  const parts = [];
  if (config.canRetry) parts.push(retryForm(upns, say('retryAll', { n: upns.length }), '', 'dash-retry-all'));
  parts.push(table('dash-failed-table', say('failed'), headings, trs));
  if (sorted.length > config.failedShown) {
    parts.push(el('p', { class: 'hint' }, say('failedMore', { n: config.failedShown, total: sorted.length }), ' ', el('a', { href: '/migrations?State=Failed', text: say('failed') })));
  }
  // Keep the keyboard where it was: a Retry button that goes away hands the focus to the answer.
  const hadFocus = body.contains(document.activeElement);
  body.replaceChildren(...parts);
  if (hadFocus) document.getElementById('dash-retry-result')?.focus();
}

function showQueue(rows, now) {
  if (!changed('queue', rows)) return;
  const sorted = [...rows].sort((a, b) => (a.QueuePosition ?? Infinity) - (b.QueuePosition ?? Infinity));
  document.querySelector('#dash-queue [data-count]').textContent = String(sorted.length);
  const body = document.getElementById('dash-queue-body');
  if (sorted.length === 0) {
    body.replaceChildren(el('p', { class: 'empty', text: say('queueNone') }));
    return;
  }
  const trs = sorted.slice(0, config.queueShown).map((r) => {
    const due = toMs(r.NotBefore);
    return el('tr', {},
      el('td', { text: String(r.QueuePosition ?? '—') }),
      el('th', { scope: 'row', text: String(r.UserPrincipalName ?? '') }),
      el('td', { text: !Number.isFinite(due) || due <= now ? say('whenFree') : formatTime(due) }),
      el('td', { text: formatTime(r.CreateDate) }));
  });
  const parts = [table('dash-queue-table', say('queue'), [say('position'), say('user'), say('expected'), say('queuedAt')], trs)];
  if (sorted.length > config.queueShown) parts.push(el('p', { class: 'hint', text: say('queueMore', { n: config.queueShown, total: sorted.length }) }));
  body.replaceChildren(...parts);
}

function showWorker(rate) {
  const banner = document.getElementById('dash-worker');
  if (!banner) return;
  banner.hidden = rate.WorkerRunning !== false;
  document.getElementById('dash-worker-seen').textContent = rate.WorkerLastSeenAt ? say('lastSeen', { time: formatTime(rate.WorkerLastSeenAt) }) : say('neverSeen');
}

function showRateTable(rate) {
  document.getElementById('dash-rate-total').textContent = say('rateTotal', { n: rate.Total ?? 0 });
  const intervals = rate.Intervals ?? [];
  const box = document.getElementById('dash-rate-fallback');
  if (intervals.length === 0) {
    box.replaceChildren(el('p', { class: 'empty', text: say('rateNone') }));
    return;
  }
  const trs = intervals.map((r) => el('tr', {}, el('th', { scope: 'row', text: formatMinute(r.StartTime) }), el('td', { text: String(r.Meetings) })));
  box.replaceChildren(table('dash-rate-table', say('rateTable'), [say('minute'), say('meetings')], trs));
}

/** Every interval of the window (x in seconds, as uPlot wants), those without migrations as 0. */
function series(rate) {
  const step = (rate.IntervalMinutes ?? 1) * 60_000;
  const start = toMs(rate.StartTime);
  const end = toMs(rate.EndTime);
  const counts = new Map((rate.Intervals ?? []).map((r) => [toMs(r.StartTime), r.Meetings]));
  const xs = [];
  const ys = [];
  for (let t = start; t < end; t += step) {
    xs.push(t / 1000);
    ys.push(counts.get(t) ?? 0);
  }
  return [xs, ys];
}

let plot;
async function showChart(rate) {
  const box = document.getElementById('dash-chart');
  if (!box || !changed('chart', rate)) return;
  const uPlot = await loadUPlot();
  const data = series(rate);
  const width = Math.max(300, box.clientWidth || 600);
  if (plot) {
    plot.setData(data);
  } else {
    plot = new uPlot({
      width,
      height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      // Times in UTC on a 24-hour clock, as the page's tables; whole meetings on the y axis.
      axes: [
        { label: say('minute'), values: (_u, splits) => splits.map((s) => new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', timeZone: 'UTC', hourCycle: 'h23' }).format(s * 1000)) },
        { label: say('meetings'), incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000], values: (_u, splits) => splits.map((s) => String(s)) },
      ],
      series: [{}, { label: say('meetings'), stroke: '#0f6cbd', fill: 'rgba(15,108,189,0.15)', width: 1, points: { show: false } }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
    }, data, box);
    new ResizeObserver(() => plot.setSize({ width: Math.max(300, box.clientWidth), height: 220 })).observe(box);
  }
  box.dataset.drawn = String(data[1].reduce((s, n) => s + n, 0));
  // The first drawing, for the bench's "first load to chart drawn" (bench/dashboard.ts).
  if (!performance.getEntriesByName('mms:chart-drawn').length) performance.mark('mms:chart-drawn');
  box.dispatchEvent(new CustomEvent('mms:chart', { detail: { points: data[0].length } }));
}

function showOutbox(counts) {
  for (const tile of document.querySelectorAll('#dash-outbox [data-outbox]')) {
    const n = counts[tile.dataset.outbox];
    if (n !== undefined && n !== null) tile.textContent = String(n);
  }
}

/** One part of the page: its read, then its drawing; a failed read leaves the part as it was until the next round. */
async function part(url, show) {
  try {
    const r = await read(url);
    if (r) await show(r.body);
  } catch {
    // the next round tries again
  }
}

let timer;
async function refresh() {
  clearTimeout(timer);
  if (document.visibilityState === 'visible') {
    const now = Date.now();
    // Each part as soon as its own read answers: the chart does not wait for a long failed list.
    await Promise.all([
      part(config.reads.rate, async (rate) => {
        showWorker(rate);
        if (changed('rateTable', rate)) showRateTable(rate);
        await showChart(rate);
      }),
      part(config.reads.summary, showSummary),
      part(config.reads.failed, showFailed),
      part(config.reads.queue, (rows) => showQueue(rows, now)),
      (async () => {
        const counts = await Promise.all(Object.values(config.outbox).map((u) => read(u).catch(() => null)));
        showOutbox(Object.fromEntries(Object.keys(config.outbox).map((s, i) => [s, counts[i]?.total ?? null])));
      })(),
    ]);
    root.dataset.refreshed = String(Number(root.dataset.refreshed ?? 0) + 1);
  }
  timer = setTimeout(() => void refresh(), config.every);
}

if (root && config) {
  // A Retry answered: read again now rather than at the next round (admin.js's mms:done does not bubble: capture it).
  document.addEventListener('mms:done', (event) => {
    if (event.target instanceof HTMLFormElement && event.target.classList.contains('retry')) void refresh();
  }, true);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void refresh();
  });
  // The server rendered every part; the chart is drawn from the numbers it rendered with, the reads repeat later.
  const initial = document.getElementById('dash-chart')?.dataset.rate;
  if (initial) void showChart(JSON.parse(initial)).catch(() => undefined);
  timer = setTimeout(() => void refresh(), config.every);
}
