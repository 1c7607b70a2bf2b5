// The frame of every admin center page: a skip link, the header (service name, tenant, who is signed in, sign out),
// the navigation, the language switch, then the page's <main>. Plain HTML that works with the keyboard alone; the
// CSRF token rides in a meta tag for the browser module that sends the page's forms to the REST API.
import { escapeHtml } from '../web-pages.js';
import { messages, LANGUAGE_NAMES, LANGUAGES, type Lang } from './i18n.js';
import { NAV, type NavKey, type PageContext, type RenderedPage } from './page.js';

export { escapeHtml as esc };

export const NAV_PATHS: Readonly<Record<NavKey, string>> = { dashboard: '/', users: '/users', migrations: '/migrations', bridges: '/bridges', settings: '/settings', telemetry: '/telemetry', audit: '/audit' };

export const common = messages({
  en: {
    service: 'Meeting Migration Service', skip: 'Skip to content', navLabel: 'Admin center', dashboard: 'Dashboard', users: 'Audio conferencing users',
    migrations: 'Migrations', bridges: 'Bridges', settings: 'Settings', telemetry: 'Telemetry', audit: 'Audit log', language: 'Language', change: 'Change',
    signedInAs: 'Signed in as {name} ({role})', signOut: 'Sign out', tenant: 'Tenant', none: 'None', yes: 'Yes', no: 'No',
    search: 'Search', filter: 'Filter', save: 'Save', cancel: 'Cancel', working: 'Working…', done: 'Done.', failed: 'Failed: {message}',
    noRows: 'Nothing to show.', previous: 'Previous', next: 'Next', showing: 'Showing {from}–{to} of {total}',
  },
  es: {
    service: 'Servicio de migración de reuniones', skip: 'Ir al contenido', navLabel: 'Centro de administración', dashboard: 'Panel', users: 'Usuarios de audioconferencia',
    migrations: 'Migraciones', bridges: 'Puentes', settings: 'Configuración', telemetry: 'Telemetría', audit: 'Registro de auditoría', language: 'Idioma', change: 'Cambiar',
    signedInAs: 'Sesión iniciada como {name} ({role})', signOut: 'Cerrar sesión', tenant: 'Inquilino', none: 'Ninguno', yes: 'Sí', no: 'No',
    search: 'Buscar', filter: 'Filtrar', save: 'Guardar', cancel: 'Cancelar', working: 'Procesando…', done: 'Hecho.', failed: 'Error: {message}',
    noRows: 'No hay nada que mostrar.', previous: 'Anterior', next: 'Siguiente', showing: 'Se muestran {from}–{to} de {total}',
  },
  fr: {
    service: 'Service de migration des réunions', skip: 'Aller au contenu', navLabel: 'Centre d’administration', dashboard: 'Tableau de bord', users: 'Utilisateurs de l’audioconférence',
    migrations: 'Migrations', bridges: 'Ponts', settings: 'Paramètres', telemetry: 'Télémétrie', audit: 'Journal d’audit', language: 'Langue', change: 'Changer',
    signedInAs: 'Connecté en tant que {name} ({role})', signOut: 'Se déconnecter', tenant: 'Locataire', none: 'Aucun', yes: 'Oui', no: 'Non',
    search: 'Rechercher', filter: 'Filtrer', save: 'Enregistrer', cancel: 'Annuler', working: 'En cours…', done: 'Terminé.', failed: 'Échec : {message}',
    noRows: 'Rien à afficher.', previous: 'Précédent', next: 'Suivant', showing: '{from}–{to} sur {total}',
  },
  it: {
    service: 'Servizio di migrazione delle riunioni', skip: 'Vai al contenuto', navLabel: 'Interfaccia di amministrazione', dashboard: 'Dashboard', users: 'Utenti di audioconferenza',
    migrations: 'Migrazioni', bridges: 'Bridge', settings: 'Impostazioni', telemetry: 'Telemetria', audit: 'Log di controllo', language: 'Lingua', change: 'Cambia',
    signedInAs: 'Accesso eseguito come {name} ({role})', signOut: 'Disconnetti', tenant: 'Tenant', none: 'Nessuno', yes: 'Sì', no: 'No',
    search: 'Cerca', filter: 'Filtra', save: 'Salva', cancel: 'Annulla', working: 'Elaborazione…', done: 'Fatto.', failed: 'Errore: {message}',
    noRows: 'Niente da mostrare.', previous: 'Precedente', next: 'Successivo', showing: '{from}–{to} di {total}',
  },
});

/** The page's query parameter `name` as one trimmed text ('' when absent; the first of a repeated one). */
export function queryText(ctx: PageContext, name: string): string {
  const v = ctx.query[name];
  return (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim();
}

/** A value as table text: null/empty as a dash, booleans in the page language, lists joined. */
export function cell(ctx: PageContext, value: unknown): string {
  const t = common(ctx.lang);
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? t('yes') : t('no');
  if (Array.isArray(value)) return value.map((v) => cell(ctx, v)).join(', ');
  return String(value);
}

/**
 * A table of `rows`: `columns` are [field, heading] pairs; `render` may give a cell's HTML (already escaped) for a
 * field. `caption` names the table for screen readers.
 */
export function table(ctx: PageContext, opts: {
  caption: string;
  columns: readonly (readonly [string, string])[];
  rows: readonly Record<string, unknown>[];
  render?: (field: string, row: Record<string, unknown>) => string | undefined;
  id?: string;
}): string {
  if (opts.rows.length === 0) return `<p class="empty">${escapeHtml(common(ctx.lang)('noRows'))}</p>`;
  const head = opts.columns.map(([, h]) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = opts.rows
    .map((r) => `<tr>${opts.columns.map(([f]) => `<td>${opts.render?.(f, r) ?? escapeHtml(cell(ctx, r[f]))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<div class="table-wrap"><table${opts.id ? ` id="${escapeHtml(opts.id)}"` : ''}><caption>${escapeHtml(opts.caption)}</caption><thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

/** A time for people in `lang`: '30 Nov 2026, 21:05 UTC'. ISO text and epoch ms both work; anything else as is. */
export function formatTime(lang: Lang, value: unknown): string {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) return value === null || value === undefined ? '—' : String(value);
  return `${new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC', hourCycle: 'h23' }).format(ms)} UTC`;
}

function languageSwitch(ctx: PageContext, path: string): string {
  const t = common(ctx.lang);
  const options = LANGUAGES.map((l: Lang) => `<option value="${l}" lang="${l}"${l === ctx.lang ? ' selected' : ''}>${escapeHtml(LANGUAGE_NAMES[l])}</option>`).join('');
  return `<form class="lang" method="get" action="${escapeHtml(path)}"><label for="mms-lang">${escapeHtml(t('language'))}</label> <select id="mms-lang" name="lang" data-autosubmit>${options}</select> <button type="submit">${escapeHtml(t('change'))}</button></form>`;
}

/** The deployment's tenants for a ServiceAdmin (a switch when there are several), the caller's own one otherwise. */
function tenantPart(ctx: PageContext, path: string, tenantName: string, tenants: readonly string[]): string {
  const t = common(ctx.lang);
  if (ctx.caller.tenantId !== null || tenants.length < 2) return `<span class="tenant">${escapeHtml(t('tenant'))}: ${escapeHtml(tenantName)}</span>`;
  const options = tenants.map((n) => `<option${n === tenantName ? ' selected' : ''}>${escapeHtml(n)}</option>`).join('');
  return `<form class="tenant" method="get" action="${escapeHtml(path)}"><label for="mms-tenant">${escapeHtml(t('tenant'))}</label> <select id="mms-tenant" name="tenant" data-autosubmit>${options}</select> <button type="submit">${escapeHtml(t('change'))}</button></form>`;
}

/** The whole document of a page. `path` is the page's own path (the language and tenant switches return to it). */
export function layout(ctx: PageContext, current: NavKey, path: string, page: RenderedPage, tenantName: string, tenants: readonly string[] = []): string {
  const t = common(ctx.lang);
  const nav = NAV.map((k) => `<li><a href="${NAV_PATHS[k]}"${k === current ? ' aria-current="page"' : ''}>${escapeHtml(t(k))}</a></li>`).join('');
  const styles = ['admin.css', ...(page.styles ?? [])].map((s) => `<link rel="stylesheet" href="${s.startsWith('/') ? s : `/static/admin/${s}`}">`).join('\n');
  const scripts = ['admin.js', 'client-telemetry.js', ...(page.scripts ?? [])].map((s) => `<script type="module" src="/static/admin/${s}"></script>`).join('\n');
  return `<!DOCTYPE html>
<html lang="${ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="mms-csrf" content="${escapeHtml(ctx.csrfToken)}">
${ctx.tenant !== undefined ? `<meta name="mms-tenant" content="${escapeHtml(ctx.tenant)}">\n` : ''}<title>${escapeHtml(page.title)} · ${escapeHtml(t('service'))}</title>
${styles}
${scripts}
</head>
<body data-working="${escapeHtml(t('working'))}" data-done="${escapeHtml(t('done'))}" data-failed="${escapeHtml(t('failed'))}">
<a class="skip" href="#main">${escapeHtml(t('skip'))}</a>
<header>
<span class="brand">${escapeHtml(t('service'))}</span>
${tenantPart(ctx, path, tenantName, tenants)}
<span class="who">${escapeHtml(t('signedInAs', { name: ctx.caller.name, role: ctx.caller.role }))}</span>
<form method="post" action="/signout"><input type="hidden" name="CsrfToken" value="${escapeHtml(ctx.csrfToken)}"><button type="submit">${escapeHtml(t('signOut'))}</button></form>
${languageSwitch(ctx, path)}
</header>
<nav aria-label="${escapeHtml(t('navLabel'))}"><ul>${nav}</ul></nav>
<main id="main" tabindex="-1">
<h1>${escapeHtml(page.title)}</h1>
${page.body}
</main>
</body>
</html>
`;
}
