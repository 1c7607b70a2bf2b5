// The Telemetry page's browser module (served at /static/admin/telemetry.js): draws the report pages/telemetry.ts
// rendered — the numbers ride in #tel-chart's data-chart, the table beside it holds the same ones — with uPlot: per
// day as lines, other groups (and an error report's top codes) as bars with the groups named on the axis. The form
// is a plain GET form, so it works with the keyboard and without this module. uPlot is loaded as a classic script
// from MMS (CSP script-src 'self'): it ships as an IIFE that defines window.uPlot.

import { loadUPlot } from './admin.js';

const box = document.getElementById('tel-chart');
const lang = document.documentElement.lang || 'en';
const COLOURS = ['#0f6cbd', '#8a5300', '#0e700e', '#b10e1c'];
const DAY_S = 86_400;
/** Whole-number steps of the y axis, 1 2 5 10 … up to 5e12 (counts are never fractions). */
const INCRS = Array.from({ length: 13 }, (_, e) => [1, 2, 5].map((m) => m * 10 ** e)).flat();

/** 'name (12)' of TopErrorCodes as [name, 12]. */
function parseTop(text) {
  const m = /^(.*) \((\d+)\)$/.exec(String(text));
  return m ? [m[1], Number(m[2])] : [String(text), 0];
}

/**
 * { labels, xs, ys: [[...] per series], names } of the chart's rows. Days are lines, one per series; other groups
 * are bars of the first series alone (bars of several series would stand on one another: the table has them all).
 */
function shape(chart) {
  if (chart.codes) {
    const top = (chart.rows[0]?.TopErrorCodes ?? []).map(parseTop);
    return { labels: top.map(([code]) => code), ys: [top.map(([, n]) => n)], names: [chart.eventsLabel], axis: chart.codeLabel, days: false };
  }
  const days = chart.groupBy === 'Day';
  const series = days ? chart.series : chart.series.slice(0, 1);
  if (!days) {
    return { labels: chart.rows.map((r) => String(r.Group)), days, ys: series.map(([field]) => chart.rows.map((r) => Number(r[field] ?? 0))), names: series.map(([, name]) => name) };
  }
  // Every day from the first shown to the last: a day without events or hidden is a gap (null), not a line across it.
  const byDay = new Map(chart.rows.map((r) => [Date.parse(`${r.Group}T00:00:00Z`) / 1000, r]));
  const first = Math.min(...byDay.keys());
  const xs = Array.from({ length: (Math.max(...byDay.keys()) - first) / DAY_S + 1 }, (_, i) => first + i * DAY_S);
  return {
    labels: xs.map(String),
    days,
    xs,
    ys: series.map(([field]) => xs.map((x) => (byDay.has(x) ? Number(byDay.get(x)[field] ?? 0) : null))),
    names: series.map(([, name]) => name),
  };
}

async function draw() {
  const chart = JSON.parse(box.dataset.chart ?? '{}');
  const uPlot = await loadUPlot();
  const s = shape(chart);
  const xs = s.days ? s.xs : s.labels.map((_l, i) => i);
  const n = s.ys.length;
  const bars = s.days ? undefined : uPlot.paths.bars({ size: [0.6, 80], align: 0 });
  const series = [{}, ...s.names.map((name, i) => ({
    label: name,
    stroke: COLOURS[i % COLOURS.length],
    fill: s.days ? undefined : COLOURS[i % COLOURS.length],
    width: s.days ? 2 : 1,
    // Dashed after the first, so that two series with the same numbers (users and devices) both show.
    dash: s.days && i > 0 ? [8, 6] : undefined,
    paths: bars,
    points: { show: s.days },
  }))];
  const dayFormat = new Intl.DateTimeFormat(lang, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  const numberFormat = new Intl.NumberFormat(lang);
  const plot = new uPlot({
    width: Math.max(300, box.clientWidth || 600),
    height: 260,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: {
      // Half a day (a slot) of room either side, so the first and last points are not on the frame.
      x: s.days ? { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] } : { time: false, range: [-0.5, xs.length - 0.5] },
      y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
    },
    axes: [
      s.days
        ? { splits: () => xs, values: (_u, splits) => splits.map((v) => dayFormat.format(v * 1000)) }
        : { label: s.axis, splits: () => xs, values: (_u, splits) => splits.map((i) => s.labels[i] ?? '') },
      { incrs: INCRS, values: (_u, splits) => splits.map((v) => numberFormat.format(v)) },
    ],
    series,
    legend: { show: n > 1 },
    cursor: { drag: { x: false, y: false } },
  }, [xs, ...s.ys], box);
  new ResizeObserver(() => plot.setSize({ width: Math.max(300, box.clientWidth), height: 260 })).observe(box);
  // For tests and people alike: how many groups (or codes) the chart holds.
  const points = s.days ? chart.rows.length : xs.length;
  box.dataset.points = String(points);
  box.dataset.slots = String(xs.length);
  box.dispatchEvent(new CustomEvent('mms:chart', { detail: { points } }));
}

if (box) void draw();
