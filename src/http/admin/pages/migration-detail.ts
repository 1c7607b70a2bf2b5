// Admin center: one migration request (issue 10 §3) — its status fields (Get-CsMeetingMigrationStatus
// -CorrelationId) and what it did to each meeting (Get-CsMeetingMigrationTransactionHistory), a page at a time.
// Retry (a Failed request: Start-CsExMeetingMigration for its user) and Undo (Undo-MmsMeetingMigration; -Force is
// offered by migrations.js only once the service has refused and said why) are forms the browser sends to the API.
import { notFound } from '../../../domain/errors.js';
import { cell, common, esc, table } from '../layout.js';
import type { AdminPage, PageContext, RenderedPage } from '../page.js';
import { href, pageNumber, stateBadge, text } from './migration-text.js';
import { MIGRATION_TYPES, meetingTypeScope, type MigrationType } from '../../../domain/migration.js';

/** History rows per page. */
const HISTORY_PAGE = 100;

const STATUS_FIELDS = [
  'UserPrincipalName', 'State', 'MigrationType', 'CreateDate', 'ModifiedDate', 'RetryCount', 'TotalMeeting', 'SucceededMeeting', 'FailedMeeting',
  'SkippedMeeting', 'InvitesUpdate', 'TriggerReasons', 'NotBefore', 'QueuePosition', 'LastMessage',
] as const;

const TIME_FIELDS = new Set(['CreateDate', 'ModifiedDate', 'NotBefore', 'Time', 'StartTime']);

/** Fields whose text is long: a row of their own. */
const WIDE = new Set(['LastMessage', 'TriggerReasons']);

/** The trigger reason an undo's own request carries (worker.ts UNDO_REASON_PREFIX): `Undo:<CorrelationId>`. */
const UNDO_OF = /^Undo:\s*([0-9a-f-]{36})$/i;

/** The migration `r` undoes, when it is an undo's own request. */
const undoes = (r: Record<string, unknown>): string | undefined =>
  (Array.isArray(r.TriggerReasons) ? r.TriggerReasons : []).map((x) => UNDO_OF.exec(String(x))?.[1]).find((x) => x !== undefined);

/** Why a request was queued; an undo's reason links the migration it undoes (Undo is run again from there). */
function triggerReasons(ctx: PageContext, reasons: unknown): string {
  const list = Array.isArray(reasons) ? reasons.map(String) : [];
  if (list.length === 0) return '—';
  return list.map((x) => {
    const m = UNDO_OF.exec(x);
    return m ? `Undo: <a href="/migrations/${esc(m[1]!)}">${esc(m[1]!)}</a>` : esc(x);
  }).join(', ');
}

function statusList(ctx: PageContext, r: Record<string, unknown>): string {
  const t = text(ctx.lang);
  const items = STATUS_FIELDS.map((f) => {
    const v = f === 'State' ? stateBadge(ctx, r.State)
      : f === 'UserPrincipalName' ? `<a href="${esc(href('/migrations', { Identity: String(r.UserPrincipalName) }))}">${esc(String(r.UserPrincipalName))}</a>`
        : f === 'TriggerReasons' ? triggerReasons(ctx, r.TriggerReasons)
        : TIME_FIELDS.has(f) ? esc(r[f] === null ? '—' : ctx.formatTime(r[f]))
          : esc(cell(ctx, r[f]));
    return `<div${WIDE.has(f) ? ' class="mig-wide"' : ''}><dt>${esc(f === 'State' ? t('state') : t(f))}</dt><dd data-status-field="${f}">${v}</dd></div>`;
  });
  return `<dl class="mig-status">${items.join('\n')}</dl>`;
}

/** A retry queues what the failed request did (issue 12): its MigrationType as Start's -SourceMeetingType and -TargetMeetingType. */
function retryTypes(r: Record<string, unknown>): string {
  const type = (MIGRATION_TYPES as readonly string[]).includes(String(r.MigrationType)) ? (r.MigrationType as MigrationType) : 'Unknown';
  const scope = meetingTypeScope(type);
  return `<input type="hidden" name="SourceMeetingType" value="${esc(scope.source)}"><input type="hidden" name="TargetMeetingType" value="${esc(scope.target)}">`;
}

function actions(ctx: PageContext, r: Record<string, unknown>): string {
  const t = text(ctx.lang);
  if (!ctx.may('Operator')) return `<p class="hint">${esc(t('mayNot', { role: ctx.caller.role }))}</p>`;
  const id = esc(String(r.CorrelationId));
  const user = String(r.UserPrincipalName);
  const parts: string[] = [];
  const isUndo = undoes(r) !== undefined;
  if (r.State === 'Failed' && !isUndo) {
    parts.push(`<form class="mig-start mig-retry" data-api="/api/v1/migrations" data-method="POST" data-done="${esc(t('retryAllDone'))}">
<input type="hidden" name="Identity" data-type="list" value="${esc(user)}">${retryTypes(r)}<p>${esc(t('retryText', { user }))}</p>
<button type="submit">${esc(t('retry'))}</button><div data-result class="result" aria-live="polite"></div></form>`);
  }
  // Undo puts back what this request wrote: a migration that updated meetings (an undo's own request restored them).
  if ((r.State === 'Failed' || r.State === 'Succeeded') && !isUndo && Number(r.InvitesUpdate) > 0) {
    parts.push(`<form class="mig-undo" data-api="/api/v1/migrations/{CorrelationId}/undo" data-method="POST" data-done="${esc(t('undoDone'))}">
<input type="hidden" name="CorrelationId" value="${id}"><p>${esc(t('undoText'))}</p>
<button type="submit" class="secondary">${esc(t('undo'))}</button><div data-result class="result" aria-live="polite"></div></form>
<form class="mig-undo mig-undo-force" hidden data-api="/api/v1/migrations/{CorrelationId}/undo" data-method="POST" data-done="${esc(t('undoDone'))}">
<input type="hidden" name="CorrelationId" value="${id}"><input type="hidden" name="Force" data-type="bool" value="true"><p>${esc(t('undoForceText'))}</p>
<button type="submit" class="danger">${esc(t('undoForce'))}</button><div data-result class="result" aria-live="polite"></div></form>`);
  }
  if (r.State === 'Pending' || r.State === 'InProgress') {
    parts.push(`<p class="note" data-watch="${esc(href('/api/v1/migrations', { CorrelationId: String(r.CorrelationId) }))}" data-state="${esc(String(r.State))}">${esc(t('running', { state: t(r.State as 'Pending' | 'InProgress') }))}</p>`);
  }
  return parts.length ? `<section class="card" aria-labelledby="mig-actions-h"><h2 id="mig-actions-h">${esc(t('actions'))}</h2>${parts.join('\n')}</section>` : '';
}

function historyPager(ctx: PageContext, id: string, total: number, page: number, shown: number): string {
  if (total <= shown && page === 1) return '';
  const c = common(ctx.lang);
  const from = (page - 1) * HISTORY_PAGE + 1;
  const base = `/migrations/${encodeURIComponent(id)}`;
  const links = [
    page > 1 ? `<a href="${esc(href(base, { page: page - 1 }))}" rel="prev">${esc(c('previous'))}</a>` : '',
    from - 1 + shown < total ? `<a href="${esc(href(base, { page: page + 1 }))}" rel="next">${esc(c('next'))}</a>` : '',
  ].filter(Boolean).join(' ');
  return `<div class="mig-pager"><p>${esc(c('showing', { from: Math.min(from, total), to: from - 1 + shown, total }))}</p>${links ? `<p>${links}</p>` : ''}</div>`;
}

async function renderDetail(ctx: PageContext, params: Readonly<Record<string, string>>): Promise<RenderedPage> {
  const t = text(ctx.lang);
  const given = params.CorrelationId ?? '';
  const [r] = await ctx.rows('Get-CsMeetingMigrationStatus', { CorrelationId: given });
  if (!r) throw notFound(t('notFound', { id: given }));
  const id = String(r.CorrelationId);
  const user = String(r.UserPrincipalName);
  const page = pageNumber(ctx);
  const got = await ctx.run('Get-CsMeetingMigrationTransactionHistory', { Identity: user, CorrelationId: id, First: HISTORY_PAGE, Skip: (page - 1) * HISTORY_PAGE });
  const rows = got.kind === 'rows' ? got.rows : [];
  const total = got.kind === 'rows' ? (got.page?.total ?? rows.length) : 0;
  const withAttendee = rows.some((x) => x.Attendee !== null && x.Attendee !== undefined);
  const columns: ('Subject' | 'StartTime' | 'Action' | 'Reason' | 'AttendeesNotified' | 'Attendee' | 'Time')[] = ['Subject', 'StartTime', 'Action', 'Reason', 'AttendeesNotified', ...(withAttendee ? ['Attendee' as const] : []), 'Time'];
  const history = table(ctx, {
    caption: t('history'),
    id: 'mig-history',
    columns: columns.map((k) => [k, t(k)] as const),
    rows,
    render: (field, row) => {
      if (TIME_FIELDS.has(field)) return esc(ctx.formatTime(row[field]));
      if (field === 'Subject') return esc(row.Subject ? String(row.Subject) : t('noSubject'));
      if (field === 'Action') return `<span class="mig-action">${esc(String(row.Action))}</span>`;
      return undefined;
    },
  });
  return {
    title: t('detailTitle', { id }),
    body: `<section class="card" aria-labelledby="mig-status-h"><h2 id="mig-status-h">${esc(t('statusTitle'))}</h2>${statusList(ctx, r)}
<p><a href="${esc(href('/migrations', { Identity: user }))}">${esc(t('otherRequests', { user }))}</a></p></section>
${actions(ctx, r)}
<h2 id="mig-history-h">${esc(t('historyTitle'))}</h2>
${history}
${historyPager(ctx, id, total, page, rows.length)}`,
    scripts: ['migrations.js'],
    styles: ['migrations.css'],
  };
}

export const MIGRATION_DETAIL_PAGE: AdminPage = { path: '/migrations/:CorrelationId', nav: 'migrations', render: renderDetail };
