// Admin center: the dashboard (issue 10 §3). What -SummaryOnly says, the failed migrations with their LastMessage
// (which names the fix) and a Retry each and for all, the queue with each Pending request's place and expected
// start, meetings migrated per minute over the last day (uPlot, with the numbers as a table for screen readers and
// without JavaScript), the outbox by state, and a warning when no worker runs. Rendered from the same REST reads
// that assets/dashboard.js repeats every few seconds, so the page stays live without a reload.
import { messages, type Lang } from '../i18n.js';
import { common, esc } from '../layout.js';
import type { AdminPage, PageContext } from '../page.js';

/** The failed migrations and queued requests shown (the Migrations page lists them all). */
export const FAILED_SHOWN = 50;
export const QUEUE_SHOWN = 20;
/** How often dashboard.js reads again (ms). */
export const DASHBOARD_EVERY_MS = 5000;

export const SUMMARY_STATES = ['Pending', 'InProgress', 'Failed', 'Succeeded'] as const;
export const OUTBOX_STATES = ['Applied', 'Queued', 'Sending', 'Sent', 'Failed'] as const;

const START_COMMANDS = 'npm start · npx mms serve · sudo systemctl enable --now mms';

const text = messages({
  en: {
    summary: 'Migrations by state', summaryHint: 'Each user counted once, by their latest request (Get-CsMeetingMigrationStatus -SummaryOnly).',
    Pending: 'Pending', InProgress: 'In progress', Failed: 'Failed', Succeeded: 'Succeeded',
    noWorker: 'No migration worker is running: queued migrations wait until one starts.', lastSeen: 'A worker was last seen {time}.', neverSeen: 'No worker has run on this database yet.', startHow: 'Start one with:',
    failed: 'Failed migrations', failedNone: 'No failed migrations.', user: 'User', message: 'What happened and the fix', failedAt: 'Failed at', attempts: 'Attempts', action: 'Action',
    retry: 'Retry', retryAll: 'Retry all failed ({n})', retryQueued: 'Queued again.', failedMore: 'The {n} newest of {total} are shown; the Migrations page lists them all.',
    queue: 'Queue', queueNone: 'No migration is waiting.', position: 'Position', expected: 'Expected start', queuedAt: 'Queued at', whenFree: 'As soon as a worker is free',
    queueMore: 'The first {n} of {total} waiting are shown.',
    rate: 'Meetings migrated per minute, last 24 hours', rateTotal: '{n} meetings migrated in the last 24 hours.', rateTable: 'Meetings migrated per minute (minutes with migrations only)',
    minute: 'Minute (UTC)', meetings: 'Meetings', rateNone: 'No meeting was migrated in the last 24 hours.', rateNumbers: 'The numbers as a table',
    chart: 'Chart of meetings migrated per minute over the last 24 hours; the table below has the same numbers.',
    outbox: 'Outbox by state', Applied: 'Attendee copies updated', Queued: 'Queued', Sending: 'Sending', Sent: 'Sent', OutboxFailed: 'Failed',
  },
  es: {
    summary: 'Migraciones por estado', summaryHint: 'Cada usuario cuenta una vez, por su solicitud más reciente (Get-CsMeetingMigrationStatus -SummaryOnly).',
    Pending: 'Pendiente', InProgress: 'En curso', Failed: 'Con error', Succeeded: 'Correcta',
    noWorker: 'No hay ningún proceso de migración en ejecución: las migraciones en cola esperan hasta que se inicie uno.', lastSeen: 'Se vio un proceso por última vez el {time}.', neverSeen: 'Todavía no se ha ejecutado ningún proceso en esta base de datos.', startHow: 'Inicie uno con:',
    failed: 'Migraciones con errores', failedNone: 'No hay migraciones con errores.', user: 'Usuario', message: 'Qué pasó y cómo resolverlo', failedAt: 'Falló el', attempts: 'Intentos', action: 'Acción',
    retry: 'Reintentar', retryAll: 'Reintentar todas las que tienen errores ({n})', retryQueued: 'En cola de nuevo.', failedMore: 'Se muestran las {n} más recientes de {total}; la página Migraciones las muestra todas.',
    queue: 'Cola', queueNone: 'No hay ninguna migración en espera.', position: 'Posición', expected: 'Inicio previsto', queuedAt: 'En cola desde', whenFree: 'En cuanto haya un proceso libre',
    queueMore: 'Se muestran las primeras {n} de {total} en espera.',
    rate: 'Reuniones migradas por minuto, últimas 24 horas', rateTotal: '{n} reuniones migradas en las últimas 24 horas.', rateTable: 'Reuniones migradas por minuto (solo minutos con migraciones)',
    minute: 'Minuto (UTC)', meetings: 'Reuniones', rateNone: 'No se migró ninguna reunión en las últimas 24 horas.', rateNumbers: 'Los números en una tabla',
    chart: 'Gráfico de reuniones migradas por minuto en las últimas 24 horas; la tabla siguiente tiene los mismos números.',
    outbox: 'Bandeja de salida por estado', Applied: 'Copias de asistentes actualizadas', Queued: 'En cola', Sending: 'Enviándose', Sent: 'Enviado', OutboxFailed: 'Con errores',
  },
  fr: {
    summary: 'Migrations par état', summaryHint: 'Chaque utilisateur compte une fois, selon sa demande la plus récente (Get-CsMeetingMigrationStatus -SummaryOnly).',
    Pending: 'En attente', InProgress: 'En cours', Failed: 'En échec', Succeeded: 'Réussie',
    noWorker: 'Aucun processus de migration ne tourne : les migrations en file attendent qu’il en démarre un.', lastSeen: 'Un processus a été vu pour la dernière fois le {time}.', neverSeen: 'Aucun processus n’a encore tourné sur cette base de données.', startHow: 'Démarrez-en un avec :',
    failed: 'Migrations en échec', failedNone: 'Aucune migration en échec.', user: 'Utilisateur', message: 'Ce qui s’est passé et la solution', failedAt: 'Échec le', attempts: 'Tentatives', action: 'Action',
    retry: 'Réessayer', retryAll: 'Réessayer toutes les migrations en échec ({n})', retryQueued: 'De nouveau en file.', failedMore: 'Les {n} plus récentes sur {total} sont affichées ; la page Migrations les liste toutes.',
    queue: 'File d’attente', queueNone: 'Aucune migration n’attend.', position: 'Position', expected: 'Début prévu', queuedAt: 'En file depuis', whenFree: 'Dès qu’un processus est libre',
    queueMore: 'Les {n} premières sur {total} en attente sont affichées.',
    rate: 'Réunions migrées par minute, dernières 24 heures', rateTotal: '{n} réunions migrées ces dernières 24 heures.', rateTable: 'Réunions migrées par minute (minutes avec migrations seulement)',
    minute: 'Minute (UTC)', meetings: 'Réunions', rateNone: 'Aucune réunion migrée ces dernières 24 heures.', rateNumbers: 'Les chiffres sous forme de tableau',
    chart: 'Graphique des réunions migrées par minute sur les dernières 24 heures ; le tableau ci-dessous donne les mêmes chiffres.',
    outbox: 'Boîte d’envoi par état', Applied: 'Copies des participants mises à jour', Queued: 'En file', Sending: 'En cours d’envoi', Sent: 'Envoyé', OutboxFailed: 'En échec',
  },
  it: {
    summary: 'Migrazioni per stato', summaryHint: 'Ogni utente conta una volta, secondo la richiesta più recente (Get-CsMeetingMigrationStatus -SummaryOnly).',
    Pending: 'In attesa', InProgress: 'In corso', Failed: 'Non riuscita', Succeeded: 'Riuscita',
    noWorker: 'Nessun processo di migrazione è in esecuzione: le migrazioni in coda attendono che ne venga avviato uno.', lastSeen: 'Un processo è stato visto l’ultima volta il {time}.', neverSeen: 'Nessun processo è ancora stato eseguito su questo database.', startHow: 'Avviane uno con:',
    failed: 'Migrazioni non riuscite', failedNone: 'Nessuna migrazione non riuscita.', user: 'Utente', message: 'Cosa è successo e come risolvere', failedAt: 'Non riuscita il', attempts: 'Tentativi', action: 'Azione',
    retry: 'Riprova', retryAll: 'Riprova tutte le migrazioni non riuscite ({n})', retryQueued: 'Di nuovo in coda.', failedMore: 'Sono mostrate le {n} più recenti di {total}; la pagina Migrazioni le elenca tutte.',
    queue: 'Coda', queueNone: 'Nessuna migrazione in attesa.', position: 'Posizione', expected: 'Inizio previsto', queuedAt: 'In coda dal', whenFree: 'Appena un processo è libero',
    queueMore: 'Sono mostrate le prime {n} di {total} in attesa.',
    rate: 'Riunioni migrate al minuto, ultime 24 ore', rateTotal: '{n} riunioni migrate nelle ultime 24 ore.', rateTable: 'Riunioni migrate al minuto (solo minuti con migrazioni)',
    minute: 'Minuto (UTC)', meetings: 'Riunioni', rateNone: 'Nessuna riunione migrata nelle ultime 24 ore.', rateNumbers: 'I numeri in una tabella',
    chart: 'Grafico delle riunioni migrate al minuto nelle ultime 24 ore; la tabella seguente riporta gli stessi numeri.',
    outbox: 'Posta in uscita per stato', Applied: 'Copie dei partecipanti aggiornate', Queued: 'In coda', Sending: 'In invio', Sent: 'Inviato', OutboxFailed: 'Non riuscito',
  },
});

type T = ReturnType<typeof text>;
type Row = Record<string, unknown>;

/** The REST reads of the dashboard: the page renders them once, dashboard.js repeats them (same URLs, same fields). */
export const DASHBOARD_READS = {
  summary: { cmdlet: 'Get-CsMeetingMigrationStatus', url: '/api/v1/migrations?SummaryOnly=true', fields: { SummaryOnly: true } },
  failed: {
    cmdlet: 'Get-CsMeetingMigrationStatus',
    url: '/api/v1/migrations?State=Failed&Latest=true&Property=UserPrincipalName&Property=CorrelationId&Property=ModifiedDate&Property=RetryCount&Property=LastMessage',
    fields: { State: 'Failed', Latest: true, Property: ['UserPrincipalName', 'CorrelationId', 'ModifiedDate', 'RetryCount', 'LastMessage'] },
  },
  queue: {
    cmdlet: 'Get-CsMeetingMigrationStatus',
    url: '/api/v1/migrations?State=Pending&Property=UserPrincipalName&Property=CorrelationId&Property=CreateDate&Property=NotBefore&Property=QueuePosition',
    fields: { State: 'Pending', Property: ['UserPrincipalName', 'CorrelationId', 'CreateDate', 'NotBefore', 'QueuePosition'] },
  },
  rate: { cmdlet: 'Get-MmsMigrationRate', url: '/api/v1/migration-rate', fields: {} },
} as const;

/** One outbox state's count: the listing's total (X-Total-Count), no rows. */
export const outboxCountUrl = (state: string): string => `/api/v1/outbox?State=${state}&First=0`;

const RETRY_API = '/api/v1/migrations';

/** What the page needs of the reads, in the shape dashboard.js gets from the API. */
export interface DashboardData {
  readonly summary: readonly Row[];
  readonly failed: readonly Row[];
  readonly queue: readonly Row[];
  readonly rate: Row;
  readonly outbox: Readonly<Record<string, number>>;
  readonly now: number;
}

const ms = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN);

function workerBanner(t: T, ctx: PageContext, rate: Row): string {
  const hidden = rate['WorkerRunning'] === false ? '' : ' hidden';
  const seen = rate['WorkerLastSeenAt'] ? t('lastSeen', { time: ctx.formatTime(rate['WorkerLastSeenAt']) }) : t('neverSeen');
  return `<div id="dash-worker" class="banner" role="alert"${hidden}><strong>${esc(t('noWorker'))}</strong> <span id="dash-worker-seen">${esc(seen)}</span> ${esc(t('startHow'))} <code>${esc(START_COMMANDS)}</code></div>`;
}

function summaryTiles(t: T, summary: readonly Row[]): string {
  const count = (s: string) => Number(summary.find((r) => r['State'] === s)?.['UserCount'] ?? 0);
  const tiles = SUMMARY_STATES.map((s) => `<li class="tile-${s}"><span class="n" data-state="${s}">${count(s)}</span> ${esc(t(s))}</li>`).join('');
  return `<section aria-labelledby="dash-summary-h"><h2 id="dash-summary-h">${esc(t('summary'))}</h2><ul class="tiles" id="dash-summary">${tiles}</ul><p class="hint">${esc(t('summaryHint'))}</p></section>`;
}

/** A Retry form: Start-CsExMeetingMigration for the user(s), through the REST API. */
function retryForm(t: T, upns: readonly string[], label: string, visuallyHidden: string, id: string): string {
  const inputs = upns.map((u) => `<input type="hidden" name="Identity" data-type="list" value="${esc(u)}">`).join('');
  const hiddenText = visuallyHidden ? ` <span class="visually-hidden">${esc(visuallyHidden)}</span>` : '';
  // The answer goes to one region outside the table: the failed row leaves the table once the user is queued again.
  return `<form class="retry" data-api="${RETRY_API}" data-method="POST" data-done="${esc(t('retryQueued'))}" data-result-target="dash-retry-result" id="${esc(id)}">${inputs}<button type="submit">${esc(label)}${hiddenText}</button></form>`;
}

/** The failed list, newest first; the first FAILED_SHOWN rows. Exported for the test of its order. */
export function failedSection(t: T, ctx: Pick<PageContext, 'formatTime' | 'may'>, failed: readonly Row[]): string {
  const rows = [...failed].sort((a, b) => ms(b['ModifiedDate']) - ms(a['ModifiedDate']));
  const upns = [...new Set(rows.map((r) => String(r['UserPrincipalName'])))];
  const canRetry = ctx.may('Operator');
  let body: string;
  if (rows.length === 0) {
    body = `<p class="empty">${esc(t('failedNone'))}</p>`;
  } else {
    const head = [t('user'), t('message'), t('failedAt'), t('attempts'), ...(canRetry ? [t('action')] : [])].map((h) => `<th scope="col">${esc(h)}</th>`).join('');
    const trs = rows.slice(0, FAILED_SHOWN).map((r, i) => {
      const upn = String(r['UserPrincipalName'] ?? '');
      const action = canRetry ? `<td>${retryForm(t, [upn], t('retry'), upn, `dash-retry-${i}`)}</td>` : '';
      return `<tr data-correlation-id="${esc(String(r['CorrelationId'] ?? ''))}"><th scope="row">${esc(upn)}</th><td class="message">${esc(String(r['LastMessage'] ?? ''))}</td><td>${esc(ctx.formatTime(r['ModifiedDate']))}</td><td>${esc(String(r['RetryCount'] ?? ''))}</td>${action}</tr>`;
    }).join('\n');
    const more = rows.length > FAILED_SHOWN ? `<p class="hint">${esc(t('failedMore', { n: FAILED_SHOWN, total: rows.length }))} <a href="/migrations?State=Failed">${esc(t('failed'))}</a></p>` : '';
    const all = canRetry ? retryForm(t, upns, t('retryAll', { n: upns.length }), '', 'dash-retry-all') : '';
    body = `${all}<div class="table-wrap"><table id="dash-failed-table"><caption>${esc(t('failed'))}</caption><thead><tr>${head}</tr></thead><tbody>${trs}</tbody></table></div>${more}`;
  }
  return `<section aria-labelledby="dash-failed-h" id="dash-failed"><h2 id="dash-failed-h">${esc(t('failed'))} (<span data-count>${rows.length}</span>)</h2><div id="dash-retry-result" class="result" role="status" tabindex="-1"></div><div id="dash-failed-body">${body}</div></section>`;
}

/** The queue by position; the first QUEUE_SHOWN. */
export function queueSection(t: T, ctx: Pick<PageContext, 'formatTime'>, queue: readonly Row[], now: number): string {
  const rows = [...queue].sort((a, b) => Number(a['QueuePosition'] ?? Infinity) - Number(b['QueuePosition'] ?? Infinity));
  let body: string;
  if (rows.length === 0) {
    body = `<p class="empty">${esc(t('queueNone'))}</p>`;
  } else {
    const head = [t('position'), t('user'), t('expected'), t('queuedAt')].map((h) => `<th scope="col">${esc(h)}</th>`).join('');
    const trs = rows.slice(0, QUEUE_SHOWN).map((r) => {
      const due = ms(r['NotBefore']);
      const expected = !Number.isFinite(due) || due <= now ? t('whenFree') : ctx.formatTime(due);
      return `<tr><td>${esc(String(r['QueuePosition'] ?? '—'))}</td><th scope="row">${esc(String(r['UserPrincipalName'] ?? ''))}</th><td>${esc(expected)}</td><td>${esc(ctx.formatTime(r['CreateDate']))}</td></tr>`;
    }).join('\n');
    const more = rows.length > QUEUE_SHOWN ? `<p class="hint">${esc(t('queueMore', { n: QUEUE_SHOWN, total: rows.length }))}</p>` : '';
    body = `<div class="table-wrap"><table id="dash-queue-table"><caption>${esc(t('queue'))}</caption><thead><tr>${head}</tr></thead><tbody>${trs}</tbody></table></div>${more}`;
  }
  return `<section aria-labelledby="dash-queue-h" id="dash-queue"><h2 id="dash-queue-h">${esc(t('queue'))} (<span data-count>${rows.length}</span>)</h2><div id="dash-queue-body">${body}</div></section>`;
}

/** The rate: the chart's place (drawn by dashboard.js) and the same numbers as a table. */
export function rateSection(t: T, lang: Lang, rate: Row): string {
  const intervals = (Array.isArray(rate['Intervals']) ? rate['Intervals'] : []) as Row[];
  const total = Number(rate['Total'] ?? 0);
  const minute = (v: unknown) => new Intl.DateTimeFormat(lang, { dateStyle: 'short', timeStyle: 'short', timeZone: 'UTC', hourCycle: 'h23' }).format(ms(v));
  const table = intervals.length === 0
    ? `<p class="empty">${esc(t('rateNone'))}</p>`
    : `<div class="table-wrap"><table id="dash-rate-table"><caption>${esc(t('rateTable'))}</caption><thead><tr><th scope="col">${esc(t('minute'))}</th><th scope="col">${esc(t('meetings'))}</th></tr></thead><tbody>${
      intervals.map((r) => `<tr><th scope="row">${esc(minute(r['StartTime']))}</th><td>${esc(String(r['Meetings']))}</td></tr>`).join('')
    }</tbody></table></div>`;
  return `<section aria-labelledby="dash-rate-h" id="dash-rate"><h2 id="dash-rate-h">${esc(t('rate'))}</h2>`
    + `<p id="dash-rate-total">${esc(t('rateTotal', { n: total }))}</p>`
    // data-rate: the answer the page was rendered with, so that dashboard.js draws the chart without reading again.
    + `<div id="dash-chart" class="chart" role="img" aria-label="${esc(t('chart'))}" data-rate="${esc(JSON.stringify(rate))}"></div>`
    + `<details id="dash-rate-numbers"><summary>${esc(t('rateNumbers'))}</summary><div id="dash-rate-fallback">${table}</div></details></section>`;
}

function outboxSection(t: T, outbox: Readonly<Record<string, number>>): string {
  const label = (s: string) => t(s === 'Failed' ? 'OutboxFailed' : (s as 'Applied'));
  const tiles = OUTBOX_STATES.map((s) => `<li class="tile-outbox-${s}"><span class="n" data-outbox="${s}">${outbox[s] ?? 0}</span> ${esc(label(s))}</li>`).join('');
  return `<section aria-labelledby="dash-outbox-h"><h2 id="dash-outbox-h">${esc(t('outbox'))}</h2><ul class="tiles" id="dash-outbox">${tiles}</ul></section>`;
}

/** The page body for `data` (what the reads answered). */
export function dashboardBody(ctx: PageContext, data: DashboardData): string {
  const t = text(ctx.lang);
  // What dashboard.js needs to build the same rows again: the page's words, the reads, whether Retry is offered.
  const config = {
    every: DASHBOARD_EVERY_MS,
    reads: Object.fromEntries(Object.entries(DASHBOARD_READS).map(([k, v]) => [k, v.url])),
    outbox: Object.fromEntries(OUTBOX_STATES.map((s) => [s, outboxCountUrl(s)])),
    retryApi: RETRY_API,
    canRetry: ctx.may('Operator'),
    failedShown: FAILED_SHOWN,
    queueShown: QUEUE_SHOWN,
    text: Object.fromEntries((['failedNone', 'user', 'message', 'failedAt', 'attempts', 'action', 'retry', 'retryAll', 'retryQueued', 'failedMore', 'failed',
      'queueNone', 'position', 'expected', 'queuedAt', 'whenFree', 'queueMore', 'queue', 'rateTotal', 'rateTable', 'minute', 'meetings', 'rateNone', 'lastSeen', 'neverSeen'] as const).map((k) => [k, t(k)])),
    working: common(ctx.lang)('working'),
  };
  return `<div id="dashboard" data-config="${esc(JSON.stringify(config))}">`
    + workerBanner(t, ctx, data.rate)
    + summaryTiles(t, data.summary)
    + failedSection(t, ctx, data.failed)
    + queueSection(t, ctx, data.queue, data.now)
    + rateSection(t, ctx.lang, data.rate)
    + outboxSection(t, data.outbox)
    + '</div>';
}

export const DASHBOARD_PAGES: readonly AdminPage[] = [
  {
    path: '/',
    nav: 'dashboard',
    async render(ctx) {
      const [summary, failed, queue, rate, ...counts] = await Promise.all([
        ctx.rows(DASHBOARD_READS.summary.cmdlet, DASHBOARD_READS.summary.fields),
        ctx.rows(DASHBOARD_READS.failed.cmdlet, DASHBOARD_READS.failed.fields),
        ctx.rows(DASHBOARD_READS.queue.cmdlet, DASHBOARD_READS.queue.fields),
        ctx.value(DASHBOARD_READS.rate.cmdlet, DASHBOARD_READS.rate.fields),
        ...OUTBOX_STATES.map(async (s) => {
          const r = await ctx.run('Get-MmsOutbox', { State: s, First: 0 });
          return r.kind === 'rows' ? (r.page?.total ?? r.rows.length) : 0;
        }),
      ]);
      const outbox = Object.fromEntries(OUTBOX_STATES.map((s, i) => [s, counts[i] ?? 0]));
      return {
        title: common(ctx.lang)('dashboard'),
        body: dashboardBody(ctx, { summary, failed, queue, rate, outbox, now: ctx.now }),
        scripts: ['dashboard.js'],
        styles: ['/static/vendor/uPlot.min.css', 'dashboard.css'],
      };
    },
  },
];
