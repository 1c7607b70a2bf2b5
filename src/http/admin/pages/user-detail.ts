// Admin center: one audio conferencing user (issue 10 §3) — the dial-in information without the PIN, and each change
// the admin can make (Reset PIN, bridge, default numbers, conference ID, enable/disable, provider) as a form the
// browser sends to the REST API. Each change says beforehand whether it will migrate the user's meetings and why,
// from the trigger rule the directory operations apply (user-state.ts).
import type { TriggerDecision } from '../../../domain/trigger-rules.js';
import { esc } from '../layout.js';
import type { AdminPage, PageContext } from '../page.js';
import { bridgesFromRows, isLicensed, previewDecision, providerKind, tenantForRules, userFromRow, type UserAction } from './user-state.js';
import { usersText } from './users-text.js';

/** "Will (not) migrate meetings: reason", or that the change does nothing for this user. */
export function decisionNote(ctx: PageContext, d: TriggerDecision | null): string {
  const t = usersText(ctx.lang);
  if (!d) return `<p class="decision none">${esc(t('noChange'))}</p>`;
  return `<p class="decision ${d.migrate ? 'migrate' : 'stay'}">${esc(t(d.migrate ? 'willMigrate' : 'wontMigrate', { reason: d.reason }))}</p>`;
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

export const USER_DETAIL_PAGE: AdminPage = {
  path: '/users/:Identity',
  nav: 'users',
  async render(ctx, params) {
    const t = usersText(ctx.lang);
    const identity = params.Identity ?? '';
    const [row, bridgeRows, tenant] = await Promise.all([
      ctx.value('Get-CsOnlineDialInConferencingUser', { Identity: identity }),
      ctx.rows('Get-CsOnlineDialInConferencingBridge'),
      tenantForRules(ctx),
    ]);
    const bridges = bridgesFromRows(bridgeRows);
    const user = userFromRow(row, bridges);
    const id = user.upn;
    const note = (a: UserAction) => decisionNote(ctx, previewDecision(a, user, tenant, bridges));
    const provider = providerKind(row);

    const info = `<section class="card" aria-labelledby="dial-in-h"><h2 id="dial-in-h">${esc(t('dialIn'))}</h2><dl class="facts" id="dial-in">
${field(t('provider'), row.Provider || t('none'))}${field(t('ac'), row.AudioConferencingEnabled === true ? t('on') : t('off'))}${field(t('bridge'), row.BridgeName)}
${field(t('toll'), row.ServiceNumber)}${field(t('tollFree'), row.TollFreeServiceNumber)}${field(t('passcode'), row.ConferenceId || row.ParticipantPasscode)}
${field(t('licence'), isLicensed(row) ? t('licensed') : '')}${field(t('homedOn'), row.HostedOn === 'OnPremises' ? t('OnPremises') : t('Online'))}${field(t('mailbox'), row.MailboxLocation === 'OnPremises' ? t('OnPremises') : t('Online'))}
${field(t('sip'), row.SipAddress)}${field(t('blockLanguage'), row.PreferredLanguage)}
</dl><p class="hint">${esc(t('pinNever'))}</p>
<p><a href="/migrations?Identity=${esc(encodeURIComponent(id))}">${esc(t('userMigrations'))}</a> · <a href="/audit?Identity=${esc(encodeURIComponent(id))}">${esc(t('userAudit'))}</a></p></section>`;

    if (!ctx.may('TenantAdmin')) return { title: String(row.DisplayName || id), body: info, styles: ['users.css'], scripts: ['users.js'] };

    const patch = `/api/v1/dial-in-users/{Identity}`;
    const changes: string[] = [];
    changes.push(section('reset-pin', t('resetPin'), `<p class="hint">${esc(t('resetPinHelp'))}</p>${note('ResetPin')}`,
      apiForm({ id: 'reset-pin-form', api: patch, method: 'PATCH', identity: id, done: t('pinDone'), inner: `<input type="hidden" name="ResetLeaderPin" data-type="bool" value="true"><button type="submit">${esc(t('resetPin'))}</button>` })));

    if (provider === 'ThirdParty') {
      changes.push(`<p class="banner">${esc(t('thirdPartyNote'))}</p>`);
    } else {
      const online = bridges.filter((b) => !b.onPremises);
      const current = online.find((b) => b.id === (user.bridgeId ?? online.find((x) => x.isDefault)?.id));
      // Only the other online bridges: moving to any of them is the change the decision above is about.
      const others = online.filter((b) => b !== current);
      if (others.length > 0) {
        const bridgeOptions = others.map((b) => `<option value="${esc(b.name)}">${esc(b.name)}</option>`).join('');
        changes.push(section('bridge', t('changeBridge'), note('Bridge'),
          apiForm({ id: 'bridge-form', api: patch, method: 'PATCH', identity: id, done: t('saved'), inner: `<label for="bridge-name">${esc(t('newBridge'))}</label> <select id="bridge-name" name="BridgeName">${bridgeOptions}</select> <button type="submit">${esc(t('moveBridge'))}</button>` })));
      }
      const numberOptions = (kind: 'Toll' | 'TollFree', now: unknown) => `<option value="">${esc(t('unchanged'))}</option>${(current?.numbers ?? [])
        .filter((n) => n.kind === kind).map((n) => `<option value="${esc(n.number)}"${n.number === now ? ' selected' : ''}>${esc(`${n.number} (${n.city})`)}</option>`).join('')}`;
      changes.push(section('numbers', t('numbers'), note('Numbers'),
        apiForm({ id: 'numbers-form', api: patch, method: 'PATCH', identity: id, done: t('saved'), inner: `<div><label for="toll-number">${esc(t('toll'))}</label> <select id="toll-number" name="ServiceNumber">${numberOptions('Toll', row.ServiceNumber)}</select></div>
<div><label for="toll-free-number">${esc(t('tollFree'))}</label> <select id="toll-free-number" name="TollFreeServiceNumber">${numberOptions('TollFree', row.TollFreeServiceNumber)}</select></div><button type="submit">${esc(t('saveNumbers'))}</button>` })));
      changes.push(section('conference-id', t('changeId'), note('ConferenceId'),
        apiForm({ id: 'conference-id-form', api: patch, method: 'PATCH', identity: id, done: t('saved'), inner: `<label for="new-conference-id">${esc(t('newId'))}</label> <input type="text" id="new-conference-id" name="ConferenceId" inputmode="numeric" pattern="[0-9]{4,15}" required> <button type="submit">${esc(t('saveId'))}</button>` })
        + apiForm({ id: 'reset-conference-id-form', api: patch, method: 'PATCH', identity: id, done: t('saved'), inner: `<input type="hidden" name="ResetConferenceId" data-type="bool" value="true"><button type="submit" class="secondary">${esc(t('resetId'))}</button>` })));
    }

    const enabled = provider === 'Microsoft' && row.AudioConferencingEnabled === true;
    const enableForm = (label: string, action: UserAction, replace: boolean) => section('enable', label, note(action),
      apiForm({ id: 'enable-form', api: '/api/v1/dial-in-users/enable', method: 'POST', identity: id, list: true, done: t('saved'), inner: `${replace ? '<input type="hidden" name="ReplaceProvider" data-type="bool" value="true">' : ''}<button type="submit">${esc(label)}</button>` }));
    if (provider === 'ThirdParty') changes.push(enableForm(t('replace'), 'ReplaceProvider', true));
    else if (!enabled) changes.push(enableForm(t('enable'), 'Enable', false));
    else {
      changes.push(section('disable', t('disable'), note('Disable'),
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
