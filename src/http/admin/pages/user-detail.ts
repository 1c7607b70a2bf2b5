// Admin center: one audio conferencing user (issue 10 §3) — the dial-in information without the PIN, and each change
// the admin can make (Reset PIN, bridge, default numbers, conference ID, enable/disable, provider) as a form the
// browser sends to the REST API. Each change says beforehand whether it will migrate the user's meetings and why:
// the page runs the very command the form sends with -WhatIf (the directory operation's own transaction, rolled
// back), so the preview is the real decision — a refusal (no licence, a number not on the bridge) included — and
// writes nothing. The bridge and number forms are previewed per option (a tenant has a few bridges and numbers).
import { MmsError } from '../../../domain/errors.js';
import { esc } from '../layout.js';
import type { AdminPage, PageContext } from '../page.js';
import { usersText } from './users-text.js';

/** What a -WhatIf run answered: it would migrate the meetings, would not, or the command would be refused. */
export interface Preview {
  readonly kind: 'migrate' | 'stay' | 'refused';
  readonly reason: string;
}

/** A -WhatIf answer row (Set/Disable's object, one of Enable's rows) as a preview. */
export function previewOf(row: Record<string, unknown>): Preview {
  const reason = String(row.Reason ?? '');
  if (row.Status === 'Failed') return { kind: 'refused', reason };
  return { kind: row.MeetingMigration === 'WouldQueue' ? 'migrate' : 'stay', reason };
}

/** A refusal the command reports (its one-line message) becomes the preview; anything else is the page's failure. */
export function refusalOf(err: unknown): Preview {
  if (err instanceof MmsError && err.code !== 'Transient') return { kind: 'refused', reason: err.message };
  throw err;
}

/** `cmdlet` with -WhatIf for this user: what the form's submit would do. */
async function whatIf(ctx: PageContext, cmdlet: string, fields: Record<string, unknown>): Promise<Preview> {
  try {
    if (cmdlet === 'Enable-CsOnlineDialInConferencingUser') {
      const rows = await ctx.rows(cmdlet, { ...fields, WhatIf: true });
      return rows[0] ? previewOf(rows[0]) : { kind: 'refused', reason: '' };
    }
    return previewOf(await ctx.value(cmdlet, { ...fields, WhatIf: true }));
  } catch (err) {
    return refusalOf(err);
  }
}

const DECISION_CLASS = { migrate: 'migrate', stay: 'stay', refused: 'refused' } as const;
const DECISION_TEXT = { migrate: 'willMigrate', stay: 'wontMigrate', refused: 'refused' } as const;

/** "Will (not) migrate meetings: reason", or "Will be refused: reason". */
export function decisionText(ctx: PageContext, p: Preview): string {
  return usersText(ctx.lang)(DECISION_TEXT[p.kind], { reason: p.reason });
}

export function decisionNote(ctx: PageContext, p: Preview): string {
  return `<p class="decision ${DECISION_CLASS[p.kind]}">${esc(decisionText(ctx, p))}</p>`;
}

/** One preview per option of a select: "<option>: <decision>". */
function optionNotes(ctx: PageContext, id: string, heading: string, items: ReadonlyArray<{ label: string; preview: Preview }>): string {
  if (items.length === 0) return '';
  const li = items.map((i) => `<li class="decision ${DECISION_CLASS[i.preview.kind]}"><strong>${esc(i.label)}</strong>: ${esc(decisionText(ctx, i.preview))}</li>`).join('');
  return `<p class="hint" id="${id}">${esc(heading)}</p><ul class="previews" aria-labelledby="${id}">${li}</ul>`;
}

/** Runs the previews one after the other: each is a write transaction (rolled back), and they would only queue for the lock. */
async function serially<T>(jobs: ReadonlyArray<() => Promise<T>>): Promise<T[]> {
  const out: T[] = [];
  for (const job of jobs) out.push(await job());
  return out;
}

function field(label: string, value: unknown): string {
  const v = value === null || value === undefined || value === '' ? '—' : String(value);
  return `<dt>${esc(label)}</dt><dd>${esc(v)}</dd>`;
}

/** One change: a heading, what it will do to meetings, then the form(s). */
function section(id: string, heading: string, note: string, forms: string): string {
  return `<section class="card change" aria-labelledby="${id}-h"><h3 id="${id}-h">${esc(heading)}</h3>${note}${forms}</section>`;
}

/** A form to the REST API with the user's Identity in it and a result region. */
function apiForm(opts: { id: string; api: string; method: string; identity: string; done: string; inner: string; list?: boolean }): string {
  const idField = `<input type="hidden" name="Identity" value="${esc(opts.identity)}"${opts.list ? ' data-type="list"' : ''}>`;
  return `<form id="${opts.id}" class="inline" data-api="${esc(opts.api)}" data-method="${opts.method}" data-done="${esc(opts.done)}" data-outcome>${idField}${opts.inner}<div data-result></div></form>`;
}

/** A bridge as Get-CsOnlineDialInConferencingBridge lists it: its numbers from "+12065550100 (Seattle) Toll". */
interface BridgeView {
  readonly id: string;
  readonly name: string;
  readonly isDefault: boolean;
  readonly onPremises: boolean;
  readonly numbers: ReadonlyArray<{ number: string; city: string; kind: 'Toll' | 'TollFree' }>;
}

function bridgeViews(rows: readonly Record<string, unknown>[]): BridgeView[] {
  return rows.map((r) => ({
    id: String(r.Identity ?? ''),
    name: String(r.Name ?? ''),
    isDefault: r.IsDefault === true,
    onPremises: r.OnPremises === true,
    numbers: (Array.isArray(r.ServiceNumbers) ? r.ServiceNumbers : []).flatMap((n) => {
      const m = /^(\S+) \((.*)\) (Toll|TollFree)$/.exec(String(n));
      return m ? [{ number: m[1]!, city: m[2]!, kind: m[3] as 'Toll' | 'TollFree' }] : [];
    }),
  }));
}

export const USER_DETAIL_PAGE: AdminPage = {
  path: '/users/:Identity',
  nav: 'users',
  async render(ctx, params) {
    const t = usersText(ctx.lang);
    const identity = params.Identity ?? '';
    const [row, bridgeRows] = await Promise.all([
      ctx.value('Get-CsOnlineDialInConferencingUser', { Identity: identity }),
      ctx.rows('Get-CsOnlineDialInConferencingBridge'),
    ]);
    const id = String(row.Identity ?? identity);
    const provider = row.Provider === 'Microsoft' ? 'Microsoft' : row.Provider ? 'ThirdParty' : 'None';
    const licensed = Array.isArray(row.Licenses) && row.Licenses.includes('AudioConferencing');

    const info = `<section class="card" aria-labelledby="dial-in-h"><h2 id="dial-in-h">${esc(t('dialIn'))}</h2><dl class="facts" id="dial-in">
${field(t('provider'), row.Provider || t('none'))}${field(t('ac'), row.AudioConferencingEnabled === true ? t('on') : t('off'))}${field(t('bridge'), row.BridgeName)}
${field(t('toll'), row.ServiceNumber)}${field(t('tollFree'), row.TollFreeServiceNumber)}${field(t('passcode'), row.ConferenceId || row.ParticipantPasscode)}
${field(t('licence'), licensed ? t('licensed') : '')}${field(t('homedOn'), row.HostedOn === 'OnPremises' ? t('OnPremises') : t('Online'))}${field(t('mailbox'), row.MailboxLocation === 'OnPremises' ? t('OnPremises') : t('Online'))}
${field(t('sip'), row.SipAddress)}${field(t('blockLanguage'), row.PreferredLanguage)}
</dl><p class="hint">${esc(t('pinNever'))}</p>
<p><a href="/migrations?Identity=${esc(encodeURIComponent(id))}">${esc(t('userMigrations'))}</a> · <a href="/audit?Identity=${esc(encodeURIComponent(id))}">${esc(t('userAudit'))}</a></p></section>`;

    // The previews run the TenantAdmin commands with -WhatIf: the same role as the changes they prepare.
    if (!ctx.may('TenantAdmin')) return { title: String(row.DisplayName || id), body: info, styles: ['users.css'], scripts: ['users.js'] };

    const set = (fields: Record<string, unknown>) => whatIf(ctx, 'Set-CsOnlineDialInConferencingUser', { Identity: id, ...fields });
    const patch = `/api/v1/dial-in-users/{Identity}`;
    const changes: string[] = [];
    changes.push(section('reset-pin', t('resetPin'), `<p class="hint">${esc(t('resetPinHelp'))}</p>${decisionNote(ctx, await set({ ResetLeaderPin: true }))}`,
      apiForm({ id: 'reset-pin-form', api: patch, method: 'PATCH', identity: id, done: t('pinDone'), inner: `<input type="hidden" name="ResetLeaderPin" data-type="bool" value="true"><button type="submit">${esc(t('resetPin'))}</button>` })));

    // "Send conference info by email" (issue 12 §3): -SendEmail alone, so no PIN is issued and none can be in it.
    if (provider === 'Microsoft') {
      changes.push(section('send-info', t('sendInfo'), `<p class="hint">${esc(t('sendInfoHelp'))}</p>`,
        apiForm({ id: 'send-info-form', api: patch, method: 'PATCH', identity: id, done: t('sendInfoDone'), inner: `<input type="hidden" name="SendEmail" data-type="bool" value="true"><button type="submit">${esc(t('sendInfo'))}</button>` })));
    }
    if (provider === 'ThirdParty') {
      changes.push(`<p class="banner">${esc(t('thirdPartyNote'))}</p>`);
    } else {
      const online = bridgeViews(bridgeRows).filter((b) => !b.onPremises);
      const current = online.find((b) => b.id === row.BridgeId) ?? online.find((b) => b.isDefault);
      const others = online.filter((b) => b !== current);
      if (others.length > 0) {
        const bridgeOptions = others.map((b) => `<option value="${esc(b.name)}">${esc(b.name)}</option>`).join('');
        const notes = await serially(others.map((b) => async () => ({ label: b.name, preview: await set({ BridgeName: b.name }) })));
        changes.push(section('bridge', t('changeBridge'), optionNotes(ctx, 'bridge-previews', t('eachBridge'), notes),
          apiForm({ id: 'bridge-form', api: patch, method: 'PATCH', identity: id, done: t('saved'), inner: `<label for="bridge-name">${esc(t('newBridge'))}</label> <select id="bridge-name" name="BridgeName">${bridgeOptions}</select> <button type="submit">${esc(t('moveBridge'))}</button>` })));
      }
      const choices = (kind: 'Toll' | 'TollFree', now: unknown) => (current?.numbers ?? []).filter((n) => n.kind === kind && n.number !== now);
      const numberOptions = (kind: 'Toll' | 'TollFree', now: unknown) => `<option value="">${esc(t('unchanged'))}</option>${(current?.numbers ?? [])
        .filter((n) => n.kind === kind).map((n) => `<option value="${esc(n.number)}"${n.number === now ? ' selected' : ''}>${esc(`${n.number} (${n.city})`)}</option>`).join('')}`;
      const numberNotes = await serially([
        ...choices('Toll', row.ServiceNumber).map((n) => async () => ({ label: `${t('toll')} ${n.number} (${n.city})`, preview: await set({ ServiceNumber: n.number }) })),
        ...choices('TollFree', row.TollFreeServiceNumber).map((n) => async () => ({ label: `${t('tollFree')} ${n.number} (${n.city})`, preview: await set({ TollFreeServiceNumber: n.number }) })),
      ]);
      changes.push(section('numbers', t('numbers'), optionNotes(ctx, 'number-previews', t('eachNumber'), numberNotes),
        apiForm({ id: 'numbers-form', api: patch, method: 'PATCH', identity: id, done: t('saved'), inner: `<div><label for="toll-number">${esc(t('toll'))}</label> <select id="toll-number" name="ServiceNumber">${numberOptions('Toll', row.ServiceNumber)}</select></div>
<div><label for="toll-free-number">${esc(t('tollFree'))}</label> <select id="toll-free-number" name="TollFreeServiceNumber">${numberOptions('TollFree', row.TollFreeServiceNumber)}</select></div><button type="submit">${esc(t('saveNumbers'))}</button>` })));
      // A typed conference ID decides as a reset one does (any new ID changes the block), unless it is taken: the save says so.
      changes.push(section('conference-id', t('changeId'), decisionNote(ctx, await set({ ResetConferenceId: true })),
        apiForm({ id: 'conference-id-form', api: patch, method: 'PATCH', identity: id, done: t('saved'), inner: `<label for="new-conference-id">${esc(t('newId'))}</label> <input type="text" id="new-conference-id" name="ConferenceId" inputmode="numeric" pattern="[0-9]{4,15}" required> <button type="submit">${esc(t('saveId'))}</button>` })
        + apiForm({ id: 'reset-conference-id-form', api: patch, method: 'PATCH', identity: id, done: t('saved'), inner: `<input type="hidden" name="ResetConferenceId" data-type="bool" value="true"><button type="submit" class="secondary">${esc(t('resetId'))}</button>` })));
    }

    const enabled = provider === 'Microsoft' && row.AudioConferencingEnabled === true;
    const enableForm = async (label: string, replace: boolean) => section('enable', label,
      decisionNote(ctx, await whatIf(ctx, 'Enable-CsOnlineDialInConferencingUser', { Identity: [id], ...(replace ? { ReplaceProvider: true } : {}) })),
      apiForm({ id: 'enable-form', api: '/api/v1/dial-in-users/enable', method: 'POST', identity: id, list: true, done: t('saved'), inner: `${replace ? '<input type="hidden" name="ReplaceProvider" data-type="bool" value="true">' : ''}<button type="submit">${esc(label)}</button>` }));
    if (provider === 'ThirdParty') changes.push(await enableForm(t('replace'), true));
    else if (!enabled) changes.push(await enableForm(t('enable'), false));
    else {
      changes.push(section('disable', t('disable'), decisionNote(ctx, await whatIf(ctx, 'Disable-CsOnlineDialInConferencingUser', { Identity: id })),
        apiForm({ id: 'disable-form', api: '/api/v1/dial-in-users/{Identity}/disable', method: 'POST', identity: id, done: t('saved'), inner: `<button type="submit" class="danger">${esc(t('disable'))}</button>` })));
    }
    return {
      title: String(row.DisplayName || id),
      body: `${info}<h2>${esc(t('actions'))}</h2>${changes.join('\n')}<p><a href="/users">${esc(t('back'))}</a></p>`,
      styles: ['users.css'],
      scripts: ['users.js'],
    };
  },
};
