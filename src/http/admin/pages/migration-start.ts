// Admin center: start a migration (issue 10 §3). A GET form names the users; the page then runs
// Start-CsExMeetingMigration -WhatIf (it writes nothing, so a page may) and shows each meeting with its block diff,
// then offers Start — a form the browser posts to the REST API, which queues them for real.
import { esc } from '../layout.js';
import type { AdminPage, PageContext, RenderedPage } from '../page.js';
import { diffHtml, readError, text } from './migration-text.js';
import { MEETING_MIGRATION_SOURCE_TYPES, MEETING_MIGRATION_TARGET_TYPES } from '../../../domain/teams-upgrade.js';

/** The users named in ?Identity= (one field or repeated ones; commas, spaces or lines between them). */
export function identitiesOf(ctx: PageContext): string[] {
  const raw = ctx.query.Identity;
  const all = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((v) => v.split(/[\s,;]+/)).filter((v) => v !== '');
  return [...new Set(all)];
}

function form(ctx: PageContext, users: readonly string[]): string {
  const t = text(ctx.lang);
  return `<form class="stack" id="mig-start-users" method="get" action="/migrations/start">
<div><label for="mig-ids">${esc(t('identities'))}</label><textarea id="mig-ids" name="Identity" rows="3" cols="60" autocomplete="off" spellcheck="false">${esc(users.join('\n'))}</textarea></div>
<div><button type="submit">${esc(t('preview'))}</button></div>
</form>`;
}

/** Start-CsExMeetingMigration's -SourceMeetingType and -TargetMeetingType (issue 12), named as the parameters, defaults first. */
function meetingTypeSelects(): string {
  const select = (name: string, values: readonly string[]) => `<div><label for="mig-${name}">${name}</label> <select id="mig-${name}" name="${name}">`
    + `${values.map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join('')}</select></div>`;
  return select('SourceMeetingType', MEETING_MIGRATION_SOURCE_TYPES) + select('TargetMeetingType', MEETING_MIGRATION_TARGET_TYPES);
}

function preview(ctx: PageContext, users: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const t = text(ctx.lang);
  const update = rows.filter((r) => r.Action === 'WouldUpdate').length;
  const items = rows.map((r) => {
    const head = `<h3>${esc(r.Subject ? String(r.Subject) : t('noSubject'))}</h3>`;
    const facts = `<dl class="mig-facts"><div><dt>${esc(t('Organizer'))}</dt><dd>${esc(String(r.Organizer))}</dd></div>`
      + `<div><dt>${esc(t('StartTime'))}</dt><dd>${esc(ctx.formatTime(r.StartTime))}</dd></div>`
      + `<div><dt>${esc(t('Action'))}</dt><dd class="mig-action">${esc(String(r.Action))}</dd></div>`
      + `<div><dt>${esc(t('Reason'))}</dt><dd>${esc(String(r.Reason ?? ''))}</dd></div></dl>`;
    const diff = typeof r.Diff === 'string' && r.Diff !== '' ? `<p class="mig-diff-label">${esc(t('diff'))}</p>${diffHtml(ctx, r.Diff)}` : `<p class="hint">${esc(t('noDiff'))}</p>`;
    return `<li class="mig-meeting">${head}${facts}${diff}</li>`;
  });
  // Start comes before the meetings: with hundreds of them the button would be pages away.
  const hidden = users.map((u) => `<input type="hidden" name="Identity" data-type="list" value="${esc(u)}">`).join('');
  const start = `<section class="card mig-go"><p>${esc(t('startText', { users: users.join(', ') }))}</p>
<form class="mig-start" id="mig-start-form" data-api="/api/v1/migrations" data-method="POST" data-done="${esc(t('startDone'))}">${hidden}
${meetingTypeSelects()}
<button type="submit">${esc(t('start'))}</button><div data-result class="result" aria-live="polite"></div></form></section>`;
  return `<section aria-labelledby="mig-preview-h"><h2 id="mig-preview-h">${esc(t('previewTitle'))}</h2>
<p class="hint">${esc(t('previewHint'))}</p>
<p>${esc(t('summary', { n: rows.length, update, other: rows.length - update }))}</p>
${start}
${rows.length ? `<ol class="mig-meetings" id="mig-preview" aria-label="${esc(t('previewTitle'))}">${items.join('\n')}</ol>` : `<p class="empty">${esc(t('noMeetings'))}</p>`}
</section>`;
}

async function renderStart(ctx: PageContext): Promise<RenderedPage> {
  const t = text(ctx.lang);
  const users = identitiesOf(ctx);
  let result = '';
  if (users.length) {
    try {
      const rows = await ctx.rows('Start-CsExMeetingMigration', { Identity: users, WhatIf: true });
      result = preview(ctx, users, rows);
    } catch (err) {
      const why = readError(err);
      if (why === undefined) throw err;
      result = `<p class="alert" role="alert">${esc(why)}</p>`;
    }
  }
  return { title: t('startTitle'), body: `${form(ctx, users)}\n${result}`, scripts: ['migrations.js'], styles: ['migrations.css'] };
}

export const MIGRATION_START_PAGE: AdminPage = { path: '/migrations/start', nav: 'migrations', role: 'Operator', render: renderStart };
