// The Telemetry page's browser module (served at /static/admin/telemetry.js): draws the report pages/telemetry.ts
// rendered — the numbers ride in #tel-chart's data-chart, the table beside it holds the same ones — with uPlot: per
// day as lines, other groups (and an error report's top codes) as bars with the groups named on the axis. The form
// is a plain GET form, so it works with the keyboard and without this module. uPlot is loaded as a classic script
// from MMS (CSP script-src 'self'): it ships as an IIFE that defines window.uPlot.

const box = document.getElementById('tel-chart');
const lang = document.documentElement.lang || 'en';
const COLOURS = ['#0f6cbd', '#8a5300', '#0e700e', '#b10e1c'];

function loadUPlot() {
  return new Promise((resolve, reject) => {
    if (window.uPlot) return resolve(window.uPlot);
    const s = document.createElement('script');
    s.src = '/static/vendor/uPlot.iife.min.js';
    s.onload = () => resolve(window.uPlot);
    s.onerror = () => reject(new Error('uPlot did not load'));
    document.head.append(s);
  });
}

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
  return {
    labels: chart.rows.map((r) => String(r.Group)),
    days,
    xs: days ? chart.rows.map((r) => Date.parse(`${r.Group}T00:00:00Z`) / 1000) : undefined,
    ys: series.map(([field]) => chart.rows.map((r) => Number(r[field] ?? 0))),
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
      { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000], values: (_u, splits) => splits.map((v) => String(v)) },
    ],
    series,
    legend: { show: n > 1 },
    cursor: { drag: { x: false, y: false } },
  }, [xs, ...s.ys], box);
  new ResizeObserver(() => plot.setSize({ width: Math.max(300, box.clientWidth), height: 260 })).observe(box);
  // For tests and people alike: how many groups (or codes) the chart holds.
  box.dataset.points = String(xs.length);
  box.dispatchEvent(new CustomEvent('mms:chart', { detail: { points: xs.length } }));
}

if (box) void draw();
