// Admin center: the audit log page (issue 10 §3). Get-MmsAuditLog searched by user (Identity), actor and time
// (StartTime/EndTime, UTC) with a plain GET form, so a search is a link an admin can share; each row says who
// changed what and the reason MMS did or did not migrate the user's meetings. Paged with First/Skip like the cmdlet.
import { MmsError } from '../../../domain/errors.js';
import { HttpError } from '../../errors.js';
import { messages } from '../i18n.js';
import { common, esc, queryText, table } from '../layout.js';
import type { AdminPage, PageContext } from '../page.js';

const PAGE_SIZE = 50;

const text = messages({
  en: {
    intro: 'Every change made to the directory and its settings, who made it, and whether MMS migrated the user\'s meetings and why.',
    search: 'Search the audit log', identity: 'User (UPN or SIP address)', actor: 'Actor (as in the Actor column, e.g. web:admin)',
    start: 'From (UTC)', end: 'Up to (UTC)', clear: 'Clear', caption: 'Audit log entries, oldest first',
    time: 'Date and time', who: 'Actor', cmdlet: 'Command', target: 'Target', changes: 'Changes', decision: 'Migration', reason: 'Why',
    Migrate: 'Migrates meetings', NoMigration: 'Does not migrate', None: 'Not a trigger', pages: 'Pages of the audit log',
  },
  es: {
    intro: 'Cada cambio hecho en el directorio y su configuración, quién lo hizo y si MMS migró las reuniones del usuario y por qué.',
    search: 'Buscar en el registro de auditoría', identity: 'Usuario (UPN o dirección SIP)', actor: 'Actor (como en la columna Actor, p. ej. web:admin)',
    start: 'Desde (UTC)', end: 'Hasta (UTC)', clear: 'Borrar', caption: 'Entradas del registro de auditoría, de la más antigua a la más reciente',
    time: 'Fecha y hora', who: 'Actor', cmdlet: 'Comando', target: 'Destino', changes: 'Cambios', decision: 'Migración', reason: 'Motivo',
    Migrate: 'Migra las reuniones', NoMigration: 'No migra', None: 'No es un desencadenador', pages: 'Páginas del registro de auditoría',
  },
  fr: {
    intro: 'Chaque modification de l’annuaire et de ses paramètres, son auteur, et si MMS a migré les réunions de l’utilisateur, et pourquoi.',
    search: 'Rechercher dans le journal d’audit', identity: 'Utilisateur (UPN ou adresse SIP)', actor: 'Auteur (comme dans la colonne Auteur, p. ex. web:admin)',
    start: 'Depuis (UTC)', end: 'Jusqu’à (UTC)', clear: 'Effacer', caption: 'Entrées du journal d’audit, des plus anciennes aux plus récentes',
    time: 'Date et heure', who: 'Auteur', cmdlet: 'Commande', target: 'Cible', changes: 'Modifications', decision: 'Migration', reason: 'Pourquoi',
    Migrate: 'Migre les réunions', NoMigration: 'Ne migre pas', None: 'Pas un déclencheur', pages: 'Pages du journal d’audit',
  },
  it: {
    intro: 'Ogni modifica alla directory e alle sue impostazioni, chi l\'ha fatta e se MMS ha migrato le riunioni dell\'utente, e perché.',
    search: 'Cerca nel log di controllo', identity: 'Utente (UPN o indirizzo SIP)', actor: 'Autore (come nella colonna Autore, es. web:admin)',
    start: 'Da (UTC)', end: 'Fino a (UTC)', clear: 'Cancella', caption: 'Voci del log di controllo, dalla più vecchia',
    time: 'Data e ora', who: 'Autore', cmdlet: 'Comando', target: 'Destinazione', changes: 'Modifiche', decision: 'Migrazione', reason: 'Motivo',
    Migrate: 'Migra le riunioni', NoMigration: 'Non migra', None: 'Non è un trigger', pages: 'Pagine del log di controllo',
  },
});

/** The search as the page's own query string (paging links keep it). */
function href(search: Record<string, string>, skip: number): string {
  const q = new URLSearchParams(Object.entries(search).filter(([, v]) => v !== ''));
  if (skip > 0) q.set('Skip', String(skip));
  return `/audit${[...q].length ? `?${q}` : ''}`;
}

function searchForm(ctx: PageContext, search: Record<string, string>): string {
  const t = text(ctx.lang);
  const c = common(ctx.lang);
  const field = (name: string, label: string, type: string) =>
    `<div><label for="audit-${name}">${esc(label)}</label><input type="${type}" id="audit-${name}" name="${name}" value="${esc(search[name] ?? '')}"${type === 'datetime-local' ? ' step="1"' : ''}></div>`;
  return `<form class="filters" method="get" action="/audit" role="search" aria-label="${esc(t('search'))}">
${field('Identity', t('identity'), 'search')}
${field('Actor', t('actor'), 'search')}
${field('StartTime', t('start'), 'datetime-local')}
${field('EndTime', t('end'), 'datetime-local')}
<div><button type="submit">${esc(c('search'))}</button> <a href="/audit">${esc(t('clear'))}</a></div>
</form>`;
}

async function auditPage(ctx: PageContext) {
  const t = text(ctx.lang);
  const c = common(ctx.lang);
  const search = { Identity: queryText(ctx, 'Identity'), Actor: queryText(ctx, 'Actor'), StartTime: queryText(ctx, 'StartTime'), EndTime: queryText(ctx, 'EndTime') };
  const skip = Math.max(0, Number.parseInt(queryText(ctx, 'Skip'), 10) || 0);
  const fields = Object.fromEntries(Object.entries(search).filter(([, v]) => v !== ''));
  const parts = [`<p class="hint">${esc(t('intro'))}</p>`, searchForm(ctx, search)];
  let result;
  try {
    result = await ctx.run('Get-MmsAuditLog', { ...fields, First: PAGE_SIZE, Skip: skip });
  } catch (err) {
    // A search that cannot be run (no such user, a time that is not one): the form stays, with the reason.
    if (!(err instanceof MmsError || err instanceof HttpError)) throw err;
    parts.push(`<p class="alert" role="alert">${esc(err.message)}</p>`);
    return { title: c('audit'), body: parts.join('\n'), styles: ['misc.css'] };
  }
  const rows = result.kind === 'rows' ? result.rows : [];
  const total = result.kind === 'rows' ? result.page?.total ?? rows.length : 0;
  parts.push(table(ctx, {
    id: 'audit-rows',
    caption: t('caption'),
    columns: [['Time', t('time')], ['Actor', t('who')], ['Cmdlet', t('cmdlet')], ['Target', t('target')], ['Changes', t('changes')], ['Decision', t('decision')], ['Reason', t('reason')]],
    rows,
    render: (field, r) => {
      if (field === 'Time') return esc(ctx.formatTime(r.Time));
      if (field === 'Decision') {
        const d = String(r.Decision);
        return d === 'Migrate' || d === 'NoMigration' || d === 'None' ? `<span class="decision decision-${d}">${esc(t(d))}</span>` : esc(d);
      }
      if (field === 'Changes') return `<span class="changes">${esc(String(r.Changes ?? ''))}</span>`;
      return undefined;
    },
  }));
  if (total > 0) {
    const links = [
      skip > 0 ? `<a href="${esc(href(search, Math.max(0, skip - PAGE_SIZE)))}" rel="prev">${esc(c('previous'))}</a>` : '',
      `<span id="audit-showing">${esc(c('showing', { from: Math.min(total, skip + 1), to: Math.min(total, skip + rows.length), total }))}</span>`,
      skip + rows.length < total ? `<a href="${esc(href(search, skip + PAGE_SIZE))}" rel="next">${esc(c('next'))}</a>` : '',
    ].filter(Boolean);
    parts.push(`<nav class="pager" aria-label="${esc(t('pages'))}">${links.join(' ')}</nav>`);
  }
  return { title: c('audit'), body: parts.join('\n'), styles: ['misc.css'] };
}

export const AUDIT_PAGES: readonly AdminPage[] = [{ path: '/audit', nav: 'audit', render: auditPage }];
