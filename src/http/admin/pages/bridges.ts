// Admin center: the bridges page (issue 10 §3). Each audio-conferencing bridge with its service numbers, the
// bridge's default toll and toll-free numbers marked. Unassigning a number opens a confirmation first: it runs
// Unregister-CsOnlineDialInConferencingServiceNumber -WhatIf (the real command's own transaction, rolled back), so
// the count of users whose meetings will migrate comes from the same trigger rules the real run applies; the
// confirm button then sends the DELETE to the REST API and shows each user's result.
import { MmsError } from '../../../domain/errors.js';
import { HttpError } from '../../errors.js';
import { messages } from '../i18n.js';
import { common, esc, queryText, table } from '../layout.js';
import type { AdminPage, PageContext } from '../page.js';

const text = messages({
  en: {
    intro: 'Each bridge\'s service numbers. Users without a number of their own show the bridge\'s default numbers in their meetings.',
    defaultBridge: 'Default bridge', onPremises: 'On-premises', numbersOf: 'Service numbers of {bridge}',
    number: 'Number', city: 'City', kind: 'Kind', isDefault: 'Default', actions: 'Actions',
    Toll: 'Toll', TollFree: 'Toll-free', defaultToll: 'Default toll number', defaultTollFree: 'Default toll-free number',
    unassign: 'Unassign…', unassignLabel: 'Unassign {number} from {bridge}',
    noBridges: 'This tenant has no bridges yet: create one with New-MmsBridge.',
    confirmTitle: 'Unassign {number}',
    summary: 'Unassigning {number} from bridge {bridge} will migrate the meetings of {n} user(s).',
    affected: '{n} user(s) dial in with this number or hold it as their own; for each one MMS decides whether their meetings migrate, with the same rules as the real command.',
    defaultWarning: 'This is the bridge\'s default {kind} number: every user without a number of their own shows it. {next} becomes the default.',
    noneLeft: 'No number', toll: 'toll', tollFree: 'toll-free',
    affectedCaption: 'Users affected by unassigning {number}', user: 'User', willMigrate: 'Meetings migrate', reason: 'Why',
    confirm: 'Unassign and migrate {n} user(s)', confirmNone: 'Unassign', back: 'Back to the bridges',
    unassigned: 'The number was unassigned; no user\'s meetings showed it.', readOnly: 'Only a TenantAdmin may unassign numbers.',
    notFound: 'There is no number {number} on bridge {bridge}.', whyNot: 'The number cannot be unassigned: {message}',
  },
  es: {
    intro: 'Los números de servicio de cada puente. Los usuarios sin número propio muestran en sus reuniones los números predeterminados del puente.',
    defaultBridge: 'Puente predeterminado', onPremises: 'Local', numbersOf: 'Números de servicio de {bridge}',
    number: 'Número', city: 'Ciudad', kind: 'Tipo', isDefault: 'Predeterminado', actions: 'Acciones',
    Toll: 'De pago', TollFree: 'Gratuito', defaultToll: 'Número de pago predeterminado', defaultTollFree: 'Número gratuito predeterminado',
    unassign: 'Desasignar…', unassignLabel: 'Desasignar {number} de {bridge}',
    noBridges: 'Este inquilino aún no tiene puentes: cree uno con New-MmsBridge.',
    confirmTitle: 'Desasignar {number}',
    summary: 'Desasignar {number} del puente {bridge} migrará las reuniones de {n} usuario(s).',
    affected: '{n} usuario(s) se conectan con este número o lo tienen como propio; para cada uno MMS decide si sus reuniones se migran, con las mismas reglas que el comando real.',
    defaultWarning: 'Es el número {kind} predeterminado del puente: todos los usuarios sin número propio lo muestran. {next} pasa a ser el predeterminado.',
    noneLeft: 'Ningún número', toll: 'de pago', tollFree: 'gratuito',
    affectedCaption: 'Usuarios afectados al desasignar {number}', user: 'Usuario', willMigrate: 'Se migran las reuniones', reason: 'Motivo',
    confirm: 'Desasignar y migrar {n} usuario(s)', confirmNone: 'Desasignar', back: 'Volver a los puentes',
    unassigned: 'Se desasignó el número; ninguna reunión de usuario lo mostraba.', readOnly: 'Solo un TenantAdmin puede desasignar números.',
    notFound: 'El puente {bridge} no tiene el número {number}.', whyNot: 'No se puede desasignar el número: {message}',
  },
  fr: {
    intro: 'Les numéros de service de chaque pont. Les utilisateurs sans numéro propre affichent dans leurs réunions les numéros par défaut du pont.',
    defaultBridge: 'Pont par défaut', onPremises: 'Local', numbersOf: 'Numéros de service de {bridge}',
    number: 'Numéro', city: 'Ville', kind: 'Type', isDefault: 'Par défaut', actions: 'Actions',
    Toll: 'Payant', TollFree: 'Gratuit', defaultToll: 'Numéro payant par défaut', defaultTollFree: 'Numéro gratuit par défaut',
    unassign: 'Retirer…', unassignLabel: 'Retirer {number} de {bridge}',
    noBridges: 'Ce locataire n’a pas encore de pont : créez-en un avec New-MmsBridge.',
    confirmTitle: 'Retirer {number}',
    summary: 'Retirer {number} du pont {bridge} migrera les réunions de {n} utilisateur(s).',
    affected: '{n} utilisateur(s) appellent ce numéro ou le détiennent en propre ; pour chacun, MMS décide si ses réunions sont migrées, avec les mêmes règles que la vraie commande.',
    defaultWarning: 'C’est le numéro {kind} par défaut du pont : tous les utilisateurs sans numéro propre l’affichent. {next} devient le numéro par défaut.',
    noneLeft: 'Aucun numéro', toll: 'payant', tollFree: 'gratuit',
    affectedCaption: 'Utilisateurs concernés par le retrait de {number}', user: 'Utilisateur', willMigrate: 'Réunions migrées', reason: 'Pourquoi',
    confirm: 'Retirer et migrer {n} utilisateur(s)', confirmNone: 'Retirer', back: 'Retour aux ponts',
    unassigned: 'Le numéro a été retiré ; aucune réunion d’utilisateur ne l’affichait.', readOnly: 'Seul un TenantAdmin peut retirer des numéros.',
    notFound: 'Le pont {bridge} n’a pas de numéro {number}.', whyNot: 'Le numéro ne peut pas être retiré : {message}',
  },
  it: {
    intro: 'I numeri di servizio di ogni bridge. Gli utenti senza un numero proprio mostrano nelle riunioni i numeri predefiniti del bridge.',
    defaultBridge: 'Bridge predefinito', onPremises: 'Locale', numbersOf: 'Numeri di servizio di {bridge}',
    number: 'Numero', city: 'Città', kind: 'Tipo', isDefault: 'Predefinito', actions: 'Azioni',
    Toll: 'A pagamento', TollFree: 'Gratuito', defaultToll: 'Numero a pagamento predefinito', defaultTollFree: 'Numero gratuito predefinito',
    unassign: 'Rimuovi…', unassignLabel: 'Rimuovi {number} da {bridge}',
    noBridges: 'Questo tenant non ha ancora bridge: creane uno con New-MmsBridge.',
    confirmTitle: 'Rimuovi {number}',
    summary: 'Rimuovere {number} dal bridge {bridge} migrerà le riunioni di {n} utente/i.',
    affected: '{n} utente/i chiamano con questo numero o lo hanno come proprio; per ciascuno MMS decide se le riunioni vengono migrate, con le stesse regole del comando reale.',
    defaultWarning: 'È il numero {kind} predefinito del bridge: lo mostrano tutti gli utenti senza un numero proprio. {next} diventa il predefinito.',
    noneLeft: 'Nessun numero', toll: 'a pagamento', tollFree: 'gratuito',
    affectedCaption: 'Utenti interessati dalla rimozione di {number}', user: 'Utente', willMigrate: 'Riunioni migrate', reason: 'Motivo',
    confirm: 'Rimuovi e migra {n} utente/i', confirmNone: 'Rimuovi', back: 'Torna ai bridge',
    unassigned: 'Il numero è stato rimosso; nessuna riunione di utente lo mostrava.', readOnly: 'Solo un TenantAdmin può rimuovere numeri.',
    notFound: 'Il bridge {bridge} non ha il numero {number}.', whyNot: 'Il numero non può essere rimosso: {message}',
  },
});

interface ServiceNumber {
  readonly number: string;
  readonly city: string;
  readonly kind: 'Toll' | 'TollFree';
}

/** Get-CsOnlineDialInConferencingBridge's ServiceNumbers entries read back: `+14255550100 (Redmond) Toll`. */
function parseNumber(entry: unknown): ServiceNumber | undefined {
  const m = /^(\S+) \((.*)\) (Toll|TollFree)$/.exec(String(entry));
  return m ? { number: m[1]!, city: m[2]!, kind: m[3] as ServiceNumber['kind'] } : undefined;
}

const numbersOf = (bridge: Record<string, unknown>): ServiceNumber[] =>
  (Array.isArray(bridge.ServiceNumbers) ? bridge.ServiceNumbers : []).map(parseNumber).filter((n): n is ServiceNumber => n !== undefined);

const unassignHref = (bridge: string, number: string) => `/bridges/unassign?${new URLSearchParams({ Bridge: bridge, Number: number })}`;

function bridgeSection(ctx: PageContext, bridge: Record<string, unknown>): string {
  const t = text(ctx.lang);
  const name = String(bridge.Name ?? '');
  const badges = [bridge.IsDefault === true ? t('defaultBridge') : '', bridge.OnPremises === true ? t('onPremises') : ''].filter(Boolean)
    .map((b) => ` <span class="badge">${esc(b)}</span>`).join('');
  const rows = numbersOf(bridge).map((n) => ({
    ...n,
    isDefault: n.number === bridge.DefaultServiceNumber ? t('defaultToll') : n.number === bridge.DefaultTollFreeNumber ? t('defaultTollFree') : '',
  }));
  const columns: [string, string][] = [['number', t('number')], ['city', t('city')], ['kind', t('kind')], ['isDefault', t('isDefault')]];
  if (ctx.may('TenantAdmin')) columns.push(['actions', t('actions')]);
  return `<section class="card bridge" aria-labelledby="bridge-${esc(String(bridge.Identity))}">
<h2 id="bridge-${esc(String(bridge.Identity))}">${esc(name)}${badges}</h2>
${table(ctx, {
    caption: t('numbersOf', { bridge: name }),
    columns,
    rows,
    render: (field, r) => {
      if (field === 'kind') return esc(t(r.kind as ServiceNumber['kind']));
      if (field === 'isDefault') return r.isDefault ? `<strong class="default-number">${esc(String(r.isDefault))}</strong>` : '';
      if (field === 'actions') return `<a href="${esc(unassignHref(name, String(r.number)))}" aria-label="${esc(t('unassignLabel', { number: String(r.number), bridge: name }))}">${esc(t('unassign'))}</a>`;
      return undefined;
    },
  })}
</section>`;
}

async function bridgesPage(ctx: PageContext) {
  const t = text(ctx.lang);
  const bridges = await ctx.rows('Get-CsOnlineDialInConferencingBridge');
  const body = bridges.length === 0
    ? `<p class="empty">${esc(t('noBridges'))}</p>`
    : `<p class="hint">${esc(t('intro'))}</p>\n${bridges.map((b) => bridgeSection(ctx, b)).join('\n')}`;
  return { title: common(ctx.lang)('bridges'), body, styles: ['misc.css'] };
}

async function confirmPage(ctx: PageContext) {
  const t = text(ctx.lang);
  const c = common(ctx.lang);
  const bridgeName = queryText(ctx, 'Bridge');
  const number = queryText(ctx, 'Number');
  const back = `<p><a href="/bridges">${esc(t('back'))}</a></p>`;
  const title = t('confirmTitle', { number });
  const bridge = (await ctx.rows('Get-CsOnlineDialInConferencingBridge')).find((b) => String(b.Name).toLowerCase() === bridgeName.toLowerCase());
  const entry = bridge ? numbersOf(bridge).find((n) => n.number === number) : undefined;
  if (!bridge || !entry) return { title, body: `<p class="alert" role="alert">${esc(t('notFound', { number, bridge: bridgeName }))}</p>${back}`, styles: ['misc.css'] };
  const name = String(bridge.Name);
  const defaultKind = number === bridge.DefaultServiceNumber ? 'Toll' : number === bridge.DefaultTollFreeNumber ? 'TollFree' : undefined;
  const fields = { Identity: number, BridgeName: name, ...(defaultKind ? { RemoveDefaultServiceNumber: true } : {}) };
  let preview;
  try {
    preview = await ctx.rows('Unregister-CsOnlineDialInConferencingServiceNumber', { ...fields, WhatIf: true });
  } catch (err) {
    // A number the command refuses (a bridge's last toll number): say why, offer nothing to confirm.
    if (err instanceof MmsError || err instanceof HttpError) return { title, body: `<p class="alert" role="alert">${esc(t('whyNot', { message: err.message }))}</p>${back}`, styles: ['misc.css'] };
    throw err;
  }
  const migrating = preview.filter((r) => r.MeetingMigration === 'WouldQueue').length;
  const next = defaultKind ? numbersOf(bridge).find((n) => n.kind === defaultKind && n.number !== number)?.number ?? t('noneLeft') : '';
  const warning = defaultKind
    ? `<p class="banner">${esc(t('defaultWarning', { kind: t(defaultKind === 'Toll' ? 'toll' : 'tollFree'), next }))}</p>`
    : '';
  const users = table(ctx, {
    caption: t('affectedCaption', { number }),
    columns: [['UserPrincipalName', t('user')], ['MeetingMigration', t('willMigrate')], ['Reason', t('reason')]],
    rows: preview,
    id: 'affected-users',
    render: (field, r) => (field === 'MeetingMigration' ? esc(r.MeetingMigration === 'WouldQueue' ? c('yes') : c('no')) : undefined),
  });
  const hidden = Object.entries({ ...fields, ...(ctx.tenant !== undefined ? { Tenant: ctx.tenant } : {}) })
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(String(v))}"${typeof v === 'boolean' ? ' data-type="bool"' : ''}>`).join('');
  const form = ctx.may('TenantAdmin')
    ? `<form class="confirm" data-api="/api/v1/service-numbers/{Identity}" data-method="DELETE" data-once data-done="${esc(t('unassigned'))}">${hidden}
<button type="submit" class="danger">${esc(migrating ? t('confirm', { n: migrating }) : t('confirmNone'))}</button> <a href="/bridges">${esc(c('cancel'))}</a>
<div data-result id="unassign-result" role="status" aria-live="polite"></div></form>`
    : `<p class="hint">${esc(t('readOnly'))}</p>`;
  const body = `<p class="summary" id="unassign-summary" data-migrating="${migrating}" data-affected="${preview.length}"><strong>${esc(t('summary', { number, bridge: name, n: migrating }))}</strong></p>
<p>${esc(t('affected', { n: preview.length }))}</p>
${warning}
${users}
${form}
${back}`;
  return { title, body, styles: ['misc.css'] };
}

export const BRIDGE_PAGES: readonly AdminPage[] = [
  { path: '/bridges', nav: 'bridges', render: bridgesPage },
  // The preview runs the TenantAdmin command with -WhatIf: the same role as the change it prepares.
  { path: '/bridges/unassign', nav: 'bridges', role: 'TenantAdmin', render: confirmPage },
];
