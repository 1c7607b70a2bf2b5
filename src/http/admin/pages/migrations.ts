// Admin center: Migrations (issue 10 §3). The list of requests (Get-CsMeetingMigrationStatus) with filters by state,
// user and time in a plain GET form (works without JS), newest first, a page at a time (the cmdlet's -First/-Skip);
// "Retry all failed" queues every user whose latest request failed (one Start-CsExMeetingMigration of them all).
// The request page and the start page with its -WhatIf preview are in migration-detail.ts and migration-start.ts.
import { common, esc, queryText, table } from '../layout.js';
import type { AdminPage, PageContext } from '../page.js';
import { MIGRATION_DETAIL_PAGE } from './migration-detail.js';
import { MIGRATION_START_PAGE } from './migration-start.js';
import { href, pageNumber, readError, stateBadge, STATES, text } from './migration-text.js';

/** Requests per page of the list. */
export const PAGE_SIZE = 50;

/** Most users one "Retry all failed" queues (one page of the listing; a second press takes the rest). */
const RETRY_SCAN = 10_000;

/** A datetime-local field shows only its own form; other text (a hand-typed URL) is still applied, not shown. */
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

function filterForm(ctx: PageContext, f: { state: string; identity: string; start: string; end: string }): string {
  const t = text(ctx.lang);
  const c = common(ctx.lang);
  const options = [`<option value="">${esc(t('anyState'))}</option>`, ...STATES.map((s) => `<option value="${s}"${s === f.state ? ' selected' : ''}>${esc(t(s))}</option>`)].join('');
  const time = (v: string) => (LOCAL_TIME.test(v) ? esc(v) : '');
  return `<form class="filters" method="get" action="/migrations" role="search" aria-label="${esc(t('filters'))}">
<div><label for="mig-state">${esc(t('state'))}</label><select id="mig-state" name="State">${options}</select></div>
<div><label for="mig-user">${esc(t('user'))}</label><input type="text" id="mig-user" name="Identity" value="${esc(f.identity)}" autocomplete="off"></div>
<div><label for="mig-from">${esc(t('from'))}</label><input type="datetime-local" id="mig-from" name="StartTime" value="${time(f.start)}"></div>
<div><label for="mig-to">${esc(t('to'))}</label><input type="datetime-local" id="mig-to" name="EndTime" value="${time(f.end)}"></div>
<div><button type="submit">${esc(c('filter'))}</button> <a href="/migrations">${esc(t('clear'))}</a></div>
</form>`;
}

function pager(ctx: PageContext, total: number, page: number, shown: number, params: Record<string, string>): string {
  if (total === 0) return '';
  const c = common(ctx.lang);
  const from = (page - 1) * PAGE_SIZE + 1;
  const links = [
    page > 1 ? `<a href="${esc(href('/migrations', { ...params, page: page - 1 }))}" rel="prev">${esc(c('previous'))}</a>` : '',
    from - 1 + shown < total ? `<a href="${esc(href('/migrations', { ...params, page: page + 1 }))}" rel="next">${esc(c('next'))}</a>` : '',
  ].filter(Boolean).join(' ');
  return `<div class="mig-pager"><p>${esc(c('showing', { from, to: from - 1 + shown, total }))}</p>${links ? `<p>${links}</p>` : ''}</div>`;
}

/** Users whose latest request is Failed (-Latest: a failure retried since is not one any more). */
async function latestFailed(ctx: PageContext): Promise<string[]> {
  const rows = await ctx.rows('Get-CsMeetingMigrationStatus', { State: 'Failed', Latest: true, Property: ['UserPrincipalName'], First: RETRY_SCAN });
  return rows.map((r) => String(r.UserPrincipalName));
}

function retryAllForm(ctx: PageContext, users: readonly string[]): string {
  const t = text(ctx.lang);
  if (users.length === 0 || !ctx.may('Operator')) return '';
  const hidden = users.map((u) => `<input type="hidden" name="Identity" data-type="list" value="${esc(u)}">`).join('');
  return `<section class="card mig-retry-all" aria-labelledby="mig-retry-all-h"><h2 id="mig-retry-all-h">${esc(t('retryAllTitle'))}</h2>
<p>${esc(t('retryAllText', { n: users.length }))}</p>
<form class="mig-start" data-api="/api/v1/migrations" data-method="POST" data-done="${esc(t('retryAllDone'))}">${hidden}
<button type="submit">${esc(t('retryAll', { n: users.length }))}</button><div data-result class="result" aria-live="polite"></div></form></section>`;
}

async function renderList(ctx: PageContext) {
  const t = text(ctx.lang);
  const f = { state: queryText(ctx, 'State'), identity: queryText(ctx, 'Identity'), start: queryText(ctx, 'StartTime'), end: queryText(ctx, 'EndTime') };
  const filter = { State: f.state || undefined, Identity: f.identity || undefined, StartTime: f.start || undefined, EndTime: f.end || undefined };
  const page = pageNumber(ctx);
  let listing: string;
  try {
    // Newest first, one page: the count first, then the window at the end of the cmdlet's oldest-first order.
    const counted = await ctx.run('Get-CsMeetingMigrationStatus', { ...filter, First: 0 });
    const total = counted.kind === 'rows' ? (counted.page?.total ?? 0) : 0;
    const end = Math.max(0, total - (page - 1) * PAGE_SIZE);
    const first = Math.min(PAGE_SIZE, end);
    const rows = first > 0 ? (await ctx.rows('Get-CsMeetingMigrationStatus', { ...filter, First: first, Skip: end - first })).reverse() : [];
    listing = table(ctx, {
      caption: t('requests'),
      id: 'mig-requests',
      columns: (['UserPrincipalName', 'State', 'CorrelationId', 'CreateDate', 'TotalMeeting', 'SucceededMeeting', 'FailedMeeting', 'SkippedMeeting', 'InvitesUpdate', 'QueuePosition', 'LastMessage'] as const)
        .map((k) => [k, k === 'State' ? t('state') : t(k)] as const),
      rows,
      render: (field, r) => {
        if (field === 'State') return stateBadge(ctx, r.State);
        // The first 8 characters, as -Wait prints them (every cmdlet takes that prefix); the request's page has it whole.
        if (field === 'CorrelationId') return `<a href="/migrations/${esc(encodeURIComponent(String(r.CorrelationId)))}" class="mig-id">${esc(String(r.CorrelationId).slice(0, 8))}</a>`;
        if (field === 'LastMessage') return `<span class="mig-msg">${esc(String(r.LastMessage ?? '—'))}</span>`;
        if (field === 'UserPrincipalName') return `<a href="${esc(href('/migrations', { Identity: String(r.UserPrincipalName) }))}">${esc(String(r.UserPrincipalName))}</a>`;
        if (field === 'CreateDate') return `<span class="mig-time">${esc(ctx.formatTime(r[field]))}</span>`;
        return undefined;
      },
    }) + pager(ctx, total, page, rows.length, { State: f.state, Identity: f.identity, StartTime: f.start, EndTime: f.end });
  } catch (err) {
    const why = readError(err);
    if (why === undefined) throw err;
    listing = `<p class="alert" role="alert">${esc(why)}</p>`;
  }
  const start = ctx.may('Operator') ? `<p><a class="mig-button" href="/migrations/start">${esc(t('startLink'))}</a></p>` : `<p class="hint">${esc(t('mayNot', { role: ctx.caller.role }))}</p>`;
  return {
    title: t('listTitle'),
    body: `${start}\n${retryAllForm(ctx, await latestFailed(ctx))}\n${filterForm(ctx, f)}\n${listing}`,
    scripts: ['migrations.js'],
    styles: ['migrations.css'],
  };
}

export const MIGRATION_PAGES: readonly AdminPage[] = [
  { path: '/migrations', nav: 'migrations', render: renderList },
  MIGRATION_START_PAGE,
  MIGRATION_DETAIL_PAGE,
];
