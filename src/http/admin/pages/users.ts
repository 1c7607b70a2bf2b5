// Admin center: audio conferencing users (issue 10 §3). The list as admins know it from the Teams admin center, with
// filters and search in a plain GET form; the banner counts the users ready to be moved off a third-party provider
// (Get-CsOnlineDialInConferencingUser -ReadyToMove); selected users go to a confirmation that shows their current
// dial-in information before Enable-CsOnlineDialInConferencingUser -ReplaceProvider is sent to the REST API.
import { common, esc, queryText, table } from '../layout.js';
import type { AdminPage, PageContext } from '../page.js';
import { USER_DETAIL_PAGE, decisionNote, previewOf, refusalOf, type Preview } from './user-detail.js';
import { usersText } from './users-text.js';

/** A Get-CsOnlineDialInConferencingUser row as the API's JSON. */
type DialInRow = Record<string, unknown>;

/** Microsoft / ThirdParty / None from a row's Provider (the third party shows its own name). */
function providerKind(row: DialInRow): 'Microsoft' | 'ThirdParty' | 'None' {
  return row.Provider === 'Microsoft' ? 'Microsoft' : row.Provider ? 'ThirdParty' : 'None';
}

const isLicensed = (row: DialInRow): boolean => Array.isArray(row.Licenses) && row.Licenses.includes('AudioConferencing');

const list = (ctx: PageContext, name: string): string[] => [ctx.query[name] ?? []].flat().map((s) => s.trim()).filter(Boolean);

export const userHref = (identity: unknown): string => `/users/${encodeURIComponent(String(identity))}`;

/** The rows the filters keep: provider (microsoft | thirdparty | none), audio conferencing (on | off), and the search text. */
function filterRows(rows: readonly DialInRow[], f: { provider: string; ac: string; search: string }): DialInRow[] {
  const want = ({ microsoft: 'Microsoft', thirdparty: 'ThirdParty', none: 'None' } as Record<string, string>)[f.provider];
  const needle = f.search.toLowerCase();
  return rows.filter((r) => {
    if (want && providerKind(r) !== want) return false;
    if (f.ac === 'on' && r.AudioConferencingEnabled !== true) return false;
    if (f.ac === 'off' && r.AudioConferencingEnabled === true) return false;
    if (!needle) return true;
    return ['DisplayName', 'Identity', 'SipAddress', 'ServiceNumber', 'TollFreeServiceNumber', 'ConferenceId', 'ParticipantPasscode', 'Provider']
      .some((k) => String(r[k] ?? '').toLowerCase().includes(needle));
  });
}

function option(value: string, label: string, current: string): string {
  return `<option value="${esc(value)}"${value === current ? ' selected' : ''}>${esc(label)}</option>`;
}

async function renderList(ctx: PageContext) {
  const t = usersText(ctx.lang);
  const c = common(ctx.lang);
  const f = { provider: queryText(ctx, 'provider'), ac: queryText(ctx, 'ac'), search: queryText(ctx, 'q'), ready: queryText(ctx, 'ready') === '1' };
  const [all, ready] = await Promise.all([ctx.rows('Get-CsOnlineDialInConferencingUser'), ctx.rows('Get-CsOnlineDialInConferencingUser', { ReadyToMove: true })]);
  const rows = filterRows(f.ready ? ready : all, f);
  const canMove = ctx.may('TenantAdmin');

  const banner = ready.length > 0
    ? `<p class="banner" id="ready-banner">${esc(t(ready.length === 1 ? 'bannerOne' : 'banner', { n: ready.length }))} — <a href="/users?ready=1">${esc(t('bannerLink'))}</a></p>`
    : '';
  const filters = `<form class="filters" method="get" action="/users" role="search">
<div><label for="f-provider">${esc(t('provider'))}</label><select id="f-provider" name="provider">${option('', t('any'), f.provider)}${option('microsoft', t('microsoft'), f.provider)}${option('thirdparty', t('thirdParty'), f.provider)}${option('none', t('none'), f.provider)}</select></div>
<div><label for="f-ac">${esc(t('ac'))}</label><select id="f-ac" name="ac">${option('', t('any'), f.ac)}${option('on', t('on'), f.ac)}${option('off', t('off'), f.ac)}</select></div>
<div class="check"><input type="checkbox" id="f-ready" name="ready" value="1"${f.ready ? ' checked' : ''}> <label for="f-ready">${esc(t('ready'))}</label></div>
<div><label for="f-q">${esc(t('search'))}</label><input type="search" id="f-q" name="q" value="${esc(f.search)}" placeholder="${esc(t('searchHint'))}"></div>
<div><button type="submit">${esc(c('filter'))}</button> <a href="/users">${esc(t('clear'))}</a></div>
</form>`;

  const columns: [string, string][] = [
    ...(canMove ? [['Select', t('select')] as [string, string]] : []),
    ['DisplayName', t('name')], ['Provider', t('provider')], ['ServiceNumber', t('toll')], ['TollFreeServiceNumber', t('tollFree')],
    ['ConferenceId', t('conferenceId')], ['Licenses', t('licence')], ['HostedOn', t('homedOn')],
  ];
  const grid = table(ctx, {
    caption: t('caption', { n: rows.length, total: all.length }),
    id: 'users',
    columns,
    rows,
    render: (field, r) => {
      const id = String(r.Identity ?? '');
      switch (field) {
        case 'Select': {
          const box = `u-${encodeURIComponent(id).replace(/%/g, '_')}`;
          return `<input type="checkbox" id="${esc(box)}" name="Identity" value="${esc(id)}"><label for="${esc(box)}" class="visually-hidden">${esc(t('selectUser', { name: String(r.DisplayName ?? id) }))}</label>`;
        }
        case 'DisplayName':
          return `<a href="${esc(userHref(id))}">${esc(String(r.DisplayName ?? id))}</a><br><span class="hint">${esc(id)}</span>`;
        case 'ConferenceId':
          return esc(String(r.ConferenceId || r.ParticipantPasscode || '—'));
        case 'Licenses':
          return esc(isLicensed(r) ? t('licensed') : '—');
        case 'HostedOn':
          return esc(r.HostedOn === 'OnPremises' ? t('OnPremises') : t('Online'));
        case 'Provider':
          return esc(String(r.Provider || t('none')));
        default:
          return undefined;
      }
    },
  });
  const body = canMove && rows.length > 0
    ? `<form method="get" action="/users/move" class="move-form"><div class="move-bar"><button type="submit" id="move-selected" aria-describedby="move-hint">${esc(t('moveSelected'))}</button>
<span class="hint" id="move-hint">${esc(t('moveHint'))}</span></div>${grid}</form>`
    : grid;
  return { title: c('users'), body: `${banner}${filters}${body}`, styles: ['users.css'] };
}

async function renderMove(ctx: PageContext) {
  const t = usersText(ctx.lang);
  const ids = list(ctx, 'Identity');
  const back = `<p><a href="/users">${esc(t('back'))}</a></p>`;
  if (ids.length === 0) return { title: t('moveTitle'), body: `<p class="alert" role="alert">${esc(t('noneSelected'))}</p>${back}`, styles: ['users.css'] };
  const all = await ctx.rows('Get-CsOnlineDialInConferencingUser');
  const byId = new Map(all.map((r) => [String(r.Identity).toLowerCase(), r] as const));
  const picked = ids.map((id) => byId.get(id.toLowerCase()) ?? { Identity: id, Unknown: true });
  // What the save will do, user by user: the very Enable -ReplaceProvider it sends, with -WhatIf (a refusal, such
  // as a missing licence, shows on that user's row). Only a TenantAdmin may run it, as only they may save.
  const previews = new Map<string, Preview>();
  const knownIds = picked.filter((r) => !r.Unknown).map((r) => String(r.Identity));
  if (ctx.may('TenantAdmin') && knownIds.length > 0) {
    try {
      const rows = await ctx.rows('Enable-CsOnlineDialInConferencingUser', { Identity: knownIds, ReplaceProvider: true, WhatIf: true });
      for (const r of rows) previews.set(String(r.Identity).toLowerCase(), previewOf(r));
    } catch (err) {
      const refused = refusalOf(err);
      for (const id of knownIds) previews.set(id.toLowerCase(), refused);
    }
  }
  const grid = table(ctx, {
    caption: t('oldCaption'),
    id: 'old-dial-in',
    columns: [['DisplayName', t('name')], ['Provider', t('provider')], ['ServiceNumber', t('toll')], ['TollFreeServiceNumber', t('tollFree')], ['ConferenceId', t('passcode')], ['Meetings', t('meetings')]],
    rows: picked,
    render: (field, r) => {
      if (r.Unknown) return field === 'DisplayName' ? `<span class="alert">${esc(t('unknownUser', { id: String(r.Identity) }))}</span>` : '—';
      if (field === 'DisplayName') return `<a href="${esc(userHref(r.Identity))}">${esc(String(r.DisplayName))}</a><br><span class="hint">${esc(String(r.Identity))}</span>`;
      if (field === 'Provider') return esc(String(r.Provider || t('none')));
      if (field === 'ConferenceId') return esc(String(r.ConferenceId || r.ParticipantPasscode || '—'));
      if (field === 'Meetings') {
        const p = previews.get(String(r.Identity).toLowerCase());
        return p ? decisionNote(ctx, p) : '—';
      }
      return undefined;
    },
  });
  const known = picked.filter((r) => !r.Unknown);
  const hidden = known.map((r) => `<input type="hidden" name="Identity" data-type="list" value="${esc(String(r.Identity))}">`).join('');
  const follow = known.map((r) => `<a href="/migrations?Identity=${esc(encodeURIComponent(String(r.Identity)))}">${esc(String(r.DisplayName || r.Identity))}</a>`).join(' · ');
  const save = ctx.may('TenantAdmin') && known.length > 0
    ? `<form data-api="/api/v1/dial-in-users/enable" data-method="POST" id="move-save" data-done="${esc(t('saved'))}">${hidden}<input type="hidden" name="ReplaceProvider" data-type="bool" value="true">
<button type="submit">${esc(t('saveMove'))}</button>
<h2 id="results-heading">${esc(t('results'))}</h2>
<div data-result id="move-results" aria-labelledby="results-heading"></div>
<p>${esc(t('seeMigrations'))}: ${follow}</p></form>`
    : '';
  return { title: t('moveTitle'), body: `<p class="banner" role="note">${esc(t('moveWarning'))}</p>${grid}${save}${back}`, styles: ['users.css'], scripts: ['users.js'] };
}

export const USER_PAGES: readonly AdminPage[] = [
  { path: '/users', nav: 'users', render: renderList },
  { path: '/users/move', nav: 'users', render: renderMove },
  USER_DETAIL_PAGE,
];
