// The Migrations pages' browser module (loaded beside admin.js, which sends the forms to the REST API):
// - a Start / Retry answer's CorrelationIds become links to each new request's page;
// - Undo: when the service refuses because the blocks would show values the directory no longer has, the refusal
//   (shown by admin.js) is followed by the -Force form, offered only then; a finished undo lists what it did;
// - a Pending / InProgress request's page reloads when its state changes ([data-watch] polls the API).
import { api } from './admin.js';

function linkIds(region) {
  const table = region?.querySelector('table');
  if (!table) return;
  const col = [...table.tHead.rows[0].cells].findIndex((th) => th.textContent === 'CorrelationId');
  if (col < 0) return;
  for (const row of table.tBodies[0].rows) {
    const td = row.cells[col];
    const id = td?.textContent ?? '';
    if (!/^[0-9a-f-]{36}$/i.test(id)) continue;
    const a = document.createElement('a');
    a.href = `/migrations/${encodeURIComponent(id)}`;
    a.textContent = id;
    td.replaceChildren(a);
  }
}

for (const form of document.querySelectorAll('form.mig-start')) {
  form.addEventListener('mms:done', (e) => {
    if (e.detail.status >= 200 && e.detail.status < 300) linkIds(form.querySelector('[data-result]'));
  });
}

function undoReport(region, body) {
  if (!region || !body || typeof body !== 'object') return;
  const dl = document.createElement('dl');
  dl.className = 'mig-undo-report';
  for (const [k, v] of Object.entries(body)) {
    if (Array.isArray(v) && v.length === 0) continue;
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = Array.isArray(v) ? v.join('; ') : v === null ? '—' : String(v);
    dl.append(dt, dd);
  }
  region.append(dl);
}

const force = document.querySelector('form.mig-undo-force');
for (const form of document.querySelectorAll('form.mig-undo')) {
  form.addEventListener('mms:done', (e) => {
    const { status, body } = e.detail;
    const region = form.querySelector('[data-result]');
    if (status >= 200 && status < 300) {
      undoReport(region, body);
      if (force && form !== force) force.hidden = true;
    } else if (status === 409 && form !== force && force && /-Force\b/.test(String(body?.message ?? ''))) {
      force.hidden = false;
      force.querySelector('button')?.focus();
    }
  });
}

for (const el of document.querySelectorAll('[data-watch]')) {
  const tick = async () => {
    try {
      const res = await api('GET', el.dataset.watch);
      const state = Array.isArray(res.body) ? res.body[0]?.State : undefined;
      if (state && state !== el.dataset.state) {
        location.reload();
        return;
      }
    } catch {
      // the next round asks again
    }
    setTimeout(() => void tick(), 2000);
  };
  setTimeout(() => void tick(), 2000);
}
