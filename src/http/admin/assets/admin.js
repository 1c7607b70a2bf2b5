// The admin center's one shared browser module (served by mms at /static/admin/admin.js; the pages' CSP allows
// scripts from MMS only, none inline). Pages are rendered on the server; this module sends their forms to the REST
// API — the one place changes are made — with the session's CSRF token, and refreshes live parts of a page.
//
// Contract with the pages (src/http/admin/pages/*):
// - <form data-api="/api/v1/dial-in-users/{Identity}" data-method="PATCH">: on submit the fields become a JSON body
//   (GET/DELETE: a query string). An input's data-type says how: "bool" (checkbox checked, or "true"/"false"),
//   "int", "list" (every field of that name, checked ones for checkboxes, into one array); otherwise text, and empty
//   text is left out. A {Field} in the URL takes that field's value (and leaves the body).
//   The answer goes to the form's [data-result] element (role=status, or role=alert on failure): a Message, the
//   form's data-done text, or, for a list, a table of its rows. data-then="reload" reloads the page after success,
//   data-then="/path" opens that path; data-once leaves the buttons disabled after a success (a change that cannot be
//   made twice). The form gets an `mms:done` event with { status, body } either way.
// - [data-poll="/api/v1/…"] with data-every="5000" (ms): fetched on that period while the page is visible; each
//   descendant [data-field="Name"] gets that field of the answer; the element gets an `mms:data` event.
// - select[data-autosubmit]: submits its form on change (the button beside it stays for keyboard users).
// - <meta name="mms-tenant">: the tenant a ServiceAdmin picked; `api` adds it to every call as Tenant.

const csrf = document.querySelector('meta[name="mms-csrf"]')?.getAttribute('content') ?? '';
const say = (key, vars = {}) => (document.body.dataset[key] ?? key).replace(/\{(\w+)\}/g, (m, n) => (n in vars ? String(vars[n]) : m));

// A ServiceAdmin's pages name the tenant picked in the header: every call carries it as the Tenant field (the API
// acts on a token's own tenant otherwise, and a ServiceAdmin has none).
const tenant = document.querySelector('meta[name="mms-tenant"]')?.getAttribute('content') ?? undefined;

/** Calls the REST API as the signed-in admin: { status, body, total } (body: parsed JSON or null; total: a listing's X-Total-Count). */
export async function api(method, url, body) {
  if (tenant !== undefined) {
    if (method === 'GET' || method === 'DELETE') {
      if (!/[?&]Tenant=/.test(url)) url += `${url.includes('?') ? '&' : '?'}Tenant=${encodeURIComponent(tenant)}`;
    } else if (body !== undefined && !Array.isArray(body) && body.Tenant === undefined) {
      body = { ...body, Tenant: tenant };
    } else if (body === undefined) {
      body = { Tenant: tenant };
    }
  }
  const headers = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { message: text };
  }
  const total = res.headers.get('x-total-count');
  return { status: res.status, body: parsed, total: total === null ? null : Number(total) };
}

function fieldValue(el) {
  const type = el.dataset.type;
  if (el.type === 'checkbox') {
    if (type === 'bool') return el.checked;
    return el.checked ? el.value : undefined;
  }
  const v = el.value;
  if (v === '') return undefined;
  if (type === 'bool') return v === 'true' ? true : v === 'false' ? false : v;
  if (type === 'int') return Number.isInteger(Number(v)) ? Number(v) : v;
  return v;
}

/** The form's fields as { Name: value }, lists gathered. */
export function formFields(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled || el.type === 'submit' || el.type === 'button') continue;
    const v = fieldValue(el);
    if (el.dataset.type === 'list') {
      if (v !== undefined) (out[el.name] ??= []).push(v);
    } else if (v !== undefined) {
      out[el.name] = v;
    }
  }
  return out;
}

function showResult(form, ok, body) {
  const region = form.querySelector('[data-result]') ?? (form.dataset.resultTarget ? document.getElementById(form.dataset.resultTarget) : null);
  if (!region) return;
  region.setAttribute('role', ok ? 'status' : 'alert');
  region.className = ok ? 'result ok' : 'result error';
  region.replaceChildren();
  if (!ok) {
    region.textContent = say('failed', { message: body?.message ?? String(body?.error ?? '') });
  } else if (Array.isArray(body) && body.length > 0) {
    const table = document.createElement('table');
    const cols = Object.keys(body[0]);
    const head = table.createTHead().insertRow();
    for (const c of cols) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = c;
      head.append(th);
    }
    const tb = table.createTBody();
    for (const row of body) {
      const tr = tb.insertRow();
      for (const c of cols) tr.insertCell().textContent = row[c] === null || row[c] === undefined ? '—' : String(row[c]);
    }
    region.append(table);
  } else {
    region.textContent = body?.Message ?? form.dataset.done ?? say('done');
  }
}

async function submitToApi(form, submitter) {
  const method = (form.dataset.method ?? 'POST').toUpperCase();
  const fields = formFields(form);
  if (submitter?.name) fields[submitter.name] = fieldValue(submitter) ?? submitter.value;
  let url = form.dataset.api.replace(/\{(\w+)\}/g, (_m, name) => {
    const v = fields[name];
    delete fields[name];
    return encodeURIComponent(String(v ?? ''));
  });
  let body;
  if (method === 'GET' || method === 'DELETE') {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const item of [v].flat()) q.append(k, String(item));
    if ([...q].length) url += (url.includes('?') ? '&' : '?') + q;
  } else {
    body = fields;
  }
  const buttons = [...form.querySelectorAll('button, input[type=submit]')];
  buttons.forEach((b) => (b.disabled = true));
  const region = form.querySelector('[data-result]');
  if (region) {
    region.className = 'result';
    region.setAttribute('role', 'status');
    region.textContent = say('working');
  }
  let res;
  try {
    res = await api(method, url, body);
  } catch (err) {
    res = { status: 0, body: { message: String(err?.message ?? err) } };
  }
  const ok = res.status >= 200 && res.status < 300;
  // data-once: a change that cannot be made twice (a provider move, an unassigned number) keeps its buttons off.
  if (!(ok && form.hasAttribute('data-once'))) buttons.forEach((b) => (b.disabled = false));
  showResult(form, ok, res.body);
  form.dispatchEvent(new CustomEvent('mms:done', { detail: res }));
  if (ok && form.dataset.then === 'reload') location.reload();
  else if (ok && form.dataset.then?.startsWith('/')) location.assign(form.dataset.then);
}

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.dataset.api === undefined) return;
  event.preventDefault();
  void submitToApi(form, event.submitter);
});

document.addEventListener('change', (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute('data-autosubmit')) el.form?.requestSubmit();
});

async function poll(el) {
  if (document.visibilityState === 'visible') {
    try {
      const res = await api('GET', el.dataset.poll);
      if (res.status === 200 && res.body) {
        for (const f of el.querySelectorAll('[data-field]')) {
          const v = res.body[f.dataset.field];
          if (v !== undefined) f.textContent = v === null ? '—' : String(v);
        }
        el.dispatchEvent(new CustomEvent('mms:data', { detail: res.body }));
      }
    } catch {
      // the next round tries again
    }
  }
  setTimeout(() => void poll(el), Number(el.dataset.every ?? 5000));
}
for (const el of document.querySelectorAll('[data-poll]')) setTimeout(() => void poll(el), Number(el.dataset.every ?? 5000));

/**
 * uPlot for the pages that chart (dashboard, telemetry), loaded once from MMS as a classic script (CSP script-src
 * 'self'; it ships as an IIFE that defines window.uPlot).
 */
let uPlotReady;
export function loadUPlot() {
  uPlotReady ??= new Promise((resolve, reject) => {
    if (window.uPlot) return resolve(window.uPlot);
    const s = document.createElement('script');
    s.src = '/static/vendor/uPlot.iife.min.js';
    s.onload = () => resolve(window.uPlot);
    s.onerror = () => reject(new Error('uPlot did not load'));
    document.head.append(s);
  });
  return uPlotReady;
}
