// Admin center: the Telemetry page (issue 11 §5). Get-MmsTelemetryReport with its kind, group and window picked in a
// plain GET form (a report is a link an admin can share), drawn by assets/telemetry.js as a uPlot chart — per day
// as lines, other groups as bars, an error report's top codes as bars — with the same numbers in a table for screen
// readers and without JavaScript. Hidden groups are said as the report says them: how many, never what they hold.
import { MmsError } from '../../../domain/errors.js';
import { REPORT_GROUPS, REPORT_KINDS, reportColumns, type ReportKind } from '../../../telemetry/report.js';
import { HttpError } from '../../errors.js';
import { messages } from '../i18n.js';
import { cell, common, esc, queryText } from '../layout.js';
import type { AdminPage, PageContext } from '../page.js';

/** What the chart draws of each kind's rows (a per-day line or a bar each). */
export const CHART_SERIES: Readonly<Record<ReportKind, readonly string[]>> = {
  Census: ['Users', 'Devices'],
  Usage: ['CallsMade', 'ImSent', 'MeetingJoinSuccesses'],
  Error: ['Users', 'Events'],
};

const text = messages({
  en: {
    intro: 'What the tenant\'s clients report: census (always), usage and error reports (under the tenant\'s telemetry switches). Users and devices are counted by pseudonym; a group with fewer distinct users (usage: devices) than the tenant\'s MinGroupSize is not shown, nor anything that would let it be worked out.',
    form: 'Choose a report', kind: 'Report', Census: 'Census', Usage: 'Usage', Error: 'Error reports', groupBy: 'Group by', none: 'Whole window',
    AppVersion: 'App and version', OsName: 'Operating system', Language: 'Language', Day: 'Day (UTC)',
    start: 'From (UTC, from the start of that day; empty: 7 days before the end)', end: 'Up to (UTC, to the end of that day; empty: the end of today)', show: 'Show',
    chart: 'Chart of the report; the table below has the same numbers.', codesChart: 'Chart of the most reported error codes; the table has the same numbers.',
    caption: 'The report, one row per group', nothing: 'No events in this window.',
    hidden: '{n} group(s) not shown on some or all days: fewer than {k} distinct {unit} that day, or hidden so that the day\'s hidden groups together reach {k}. They hold {events} events.',
    hiddenAll: '{n} group(s) not shown on some or all days: fewer than {k} distinct {unit} that day, or hidden so that the day\'s hidden groups together reach {k}. Not even their number of events is shown, as on some day together they are under {k}.',
    users: 'users', devices: 'devices',
    Group: 'Group', Users: 'Users', Devices: 'Devices', Events: 'Events', SignInAttempts: 'Sign-in attempts', SignInFailures: 'Sign-in failures', SignInFailureRate: 'Sign-in failure rate (%)',
    CallsMade: 'Calls', ImSent: 'IMs sent', ImReceived: 'IMs received', MeetingJoinAttempts: 'Meeting joins tried', MeetingJoinSuccesses: 'Meetings joined', CallMinutes: 'Call minutes',
    MeetingMinutes: 'Meeting minutes', StabilityIssues: 'Stability issues', FeatureUses: 'Feature uses', TopFeatures: 'Most used features', TopErrorCodes: 'Top error codes', code: 'Error code',
  },
  es: {
    intro: 'Lo que informan los clientes del inquilino: censo (siempre), uso e informes de errores (según sus conmutadores). Usuarios y dispositivos se cuentan por seudónimo; no se muestra un grupo con menos usuarios distintos (uso: dispositivos) que el MinGroupSize del inquilino, ni nada que permita deducirlo.',
    form: 'Elija un informe', kind: 'Informe', Census: 'Censo', Usage: 'Uso', Error: 'Informes de errores', groupBy: 'Agrupar por', none: 'Todo el periodo',
    AppVersion: 'Aplicación y versión', OsName: 'Sistema operativo', Language: 'Idioma', Day: 'Día (UTC)',
    start: 'Desde (UTC, desde el inicio de ese día; vacío: 7 días antes del final)', end: 'Hasta (UTC, hasta el final de ese día; vacío: el final de hoy)', show: 'Mostrar',
    chart: 'Gráfico del informe; la tabla siguiente tiene los mismos números.', codesChart: 'Gráfico de los códigos de error más notificados; la tabla tiene los mismos números.',
    caption: 'El informe, una fila por grupo', nothing: 'No hay eventos en este periodo.',
    hidden: '{n} grupo(s) no mostrados algunos o todos los días: menos de {k} {unit} distintos ese día, u ocultos para que los ocultos del día juntos lleguen a {k}. Contienen {events} eventos.',
    hiddenAll: '{n} grupo(s) no mostrados algunos o todos los días: menos de {k} {unit} distintos ese día, u ocultos para que los ocultos del día juntos lleguen a {k}. Ni siquiera se muestra su número de eventos, ya que algún día juntos no llegan a {k}.',
    users: 'usuarios', devices: 'dispositivos',
    Group: 'Grupo', Users: 'Usuarios', Devices: 'Dispositivos', Events: 'Eventos', SignInAttempts: 'Intentos de inicio de sesión', SignInFailures: 'Inicios de sesión fallidos', SignInFailureRate: 'Tasa de error de inicio de sesión (%)',
    CallsMade: 'Llamadas', ImSent: 'MI enviados', ImReceived: 'MI recibidos', MeetingJoinAttempts: 'Intentos de unirse a reuniones', MeetingJoinSuccesses: 'Reuniones a las que se unió', CallMinutes: 'Minutos de llamada',
    MeetingMinutes: 'Minutos de reunión', StabilityIssues: 'Problemas de estabilidad', FeatureUses: 'Usos de funciones', TopFeatures: 'Funciones más usadas', TopErrorCodes: 'Códigos de error principales', code: 'Código de error',
  },
  fr: {
    intro: 'Ce que signalent les clients du locataire : recensement (toujours), utilisation et rapports d’erreurs (selon leurs commutateurs). Utilisateurs et appareils sont comptés par pseudonyme ; un groupe de moins d’utilisateurs distincts (utilisation : d’appareils) que le MinGroupSize du locataire n’est pas affiché, ni rien qui permette de le déduire.',
    form: 'Choisir un rapport', kind: 'Rapport', Census: 'Recensement', Usage: 'Utilisation', Error: 'Rapports d’erreurs', groupBy: 'Grouper par', none: 'Toute la période',
    AppVersion: 'Application et version', OsName: 'Système d’exploitation', Language: 'Langue', Day: 'Jour (UTC)',
    start: 'Depuis (UTC, dès le début de ce jour ; vide : 7 jours avant la fin)', end: 'Jusqu’à (UTC, jusqu’à la fin de ce jour ; vide : la fin d’aujourd’hui)', show: 'Afficher',
    chart: 'Graphique du rapport ; le tableau ci-dessous donne les mêmes chiffres.', codesChart: 'Graphique des codes d’erreur les plus signalés ; le tableau donne les mêmes chiffres.',
    caption: 'Le rapport, une ligne par groupe', nothing: 'Aucun événement sur cette période.',
    hidden: '{n} groupe(s) non affichés certains jours ou tous : moins de {k} {unit} distincts ce jour-là, ou masqués pour que les groupes masqués du jour atteignent ensemble {k}. Ils comptent {events} événements.',
    hiddenAll: '{n} groupe(s) non affichés certains jours ou tous : moins de {k} {unit} distincts ce jour-là, ou masqués pour que les groupes masqués du jour atteignent ensemble {k}. Même leur nombre d’événements n’est pas affiché, car un jour ensemble ils n’atteignent pas {k}.',
    users: 'utilisateurs', devices: 'appareils',
    Group: 'Groupe', Users: 'Utilisateurs', Devices: 'Appareils', Events: 'Événements', SignInAttempts: 'Tentatives de connexion', SignInFailures: 'Échecs de connexion', SignInFailureRate: 'Taux d’échec de connexion (%)',
    CallsMade: 'Appels', ImSent: 'MI envoyés', ImReceived: 'MI reçus', MeetingJoinAttempts: 'Tentatives de participation', MeetingJoinSuccesses: 'Réunions rejointes', CallMinutes: 'Minutes d’appel',
    MeetingMinutes: 'Minutes de réunion', StabilityIssues: 'Problèmes de stabilité', FeatureUses: 'Utilisations de fonctions', TopFeatures: 'Fonctions les plus utilisées', TopErrorCodes: 'Principaux codes d’erreur', code: 'Code d’erreur',
  },
  it: {
    intro: 'Ciò che segnalano i client del tenant: censimento (sempre), utilizzo e segnalazioni di errori (secondo i relativi switch). Utenti e dispositivi sono contati per pseudonimo; un gruppo con meno utenti distinti (utilizzo: dispositivi) del MinGroupSize del tenant non è mostrato, né nulla che permetta di ricavarlo.',
    form: 'Scegli un report', kind: 'Report', Census: 'Censimento', Usage: 'Utilizzo', Error: 'Segnalazioni di errori', groupBy: 'Raggruppa per', none: 'Intero periodo',
    AppVersion: 'App e versione', OsName: 'Sistema operativo', Language: 'Lingua', Day: 'Giorno (UTC)',
    start: 'Da (UTC, dall’inizio di quel giorno; vuoto: 7 giorni prima della fine)', end: 'Fino a (UTC, fino alla fine di quel giorno; vuoto: la fine di oggi)', show: 'Mostra',
    chart: 'Grafico del report; la tabella seguente riporta gli stessi numeri.', codesChart: 'Grafico dei codici di errore più segnalati; la tabella riporta gli stessi numeri.',
    caption: 'Il report, una riga per gruppo', nothing: 'Nessun evento in questo periodo.',
    hidden: '{n} gruppo/i non mostrati in alcuni o tutti i giorni: meno di {k} {unit} distinti quel giorno, o nascosti perché i nascosti del giorno insieme arrivino a {k}. Contengono {events} eventi.',
    hiddenAll: '{n} gruppo/i non mostrati in alcuni o tutti i giorni: meno di {k} {unit} distinti quel giorno, o nascosti perché i nascosti del giorno insieme arrivino a {k}. Non è mostrato nemmeno il numero dei loro eventi, poiché in un giorno insieme non arrivano a {k}.',
    users: 'utenti', devices: 'dispositivi',
    Group: 'Gruppo', Users: 'Utenti', Devices: 'Dispositivi', Events: 'Eventi', SignInAttempts: 'Tentativi di accesso', SignInFailures: 'Accessi non riusciti', SignInFailureRate: 'Tasso di accessi non riusciti (%)',
    CallsMade: 'Chiamate', ImSent: 'Messaggi inviati', ImReceived: 'Messaggi ricevuti', MeetingJoinAttempts: 'Tentativi di partecipazione', MeetingJoinSuccesses: 'Riunioni a cui si è partecipato', CallMinutes: 'Minuti di chiamata',
    MeetingMinutes: 'Minuti di riunione', StabilityIssues: 'Problemi di stabilità', FeatureUses: 'Utilizzi di funzionalità', TopFeatures: 'Funzionalità più usate', TopErrorCodes: 'Codici di errore principali', code: 'Codice di errore',
  },
});

type T = ReturnType<typeof text>;
type Row = Record<string, unknown>;
type Field = Parameters<T>[0];

/** The page's choice: the query string's, else census per day over the cmdlet's default window. */
function choice(ctx: PageContext): { Kind: ReportKind; GroupBy: string; StartTime: string; EndTime: string } {
  const kind = REPORT_KINDS.find((k) => k === queryText(ctx, 'Kind')) ?? 'Census';
  const group = queryText(ctx, 'GroupBy');
  return { Kind: kind, GroupBy: ctx.query.GroupBy === undefined ? 'Day' : group, StartTime: queryText(ctx, 'StartTime'), EndTime: queryText(ctx, 'EndTime') };
}

function form(t: T, ctx: PageContext, c: ReturnType<typeof choice>): string {
  const select = (name: string, label: string, options: ReadonlyArray<readonly [string, string]>, value: string) =>
    `<div><label for="tel-${name}">${esc(label)}</label><select id="tel-${name}" name="${name}">${options.map(([v, l]) => `<option value="${esc(v)}"${v === value ? ' selected' : ''}>${esc(l)}</option>`).join('')}</select></div>`;
  const time = (name: 'StartTime' | 'EndTime', label: string) =>
    `<div><label for="tel-${name}">${esc(label)}</label><input type="datetime-local" id="tel-${name}" name="${name}" value="${esc(c[name])}" step="1"></div>`;
  return `<form class="filters" id="tel-form" method="get" action="/telemetry" aria-label="${esc(t('form'))}">
${select('Kind', t('kind'), REPORT_KINDS.map((k) => [k, t(k)] as const), c.Kind)}
${select('GroupBy', t('groupBy'), [['', t('none')] as const, ...REPORT_GROUPS.map((g) => [g, t(g)] as const)], c.GroupBy)}
${time('StartTime', t('start'))}
${time('EndTime', t('end'))}
<div><button type="submit">${esc(t('show'))}</button></div>
</form>`;
}

/** A cell's text: numbers as the page's language writes them (1 234,5 in French), the rest as the layout does. */
function numberCell(ctx: PageContext, value: unknown): string {
  return typeof value === 'number' ? new Intl.NumberFormat(ctx.lang).format(value) : cell(ctx, value);
}

function reportTable(t: T, ctx: PageContext, kind: ReportKind, rows: readonly Row[]): string {
  const columns = reportColumns(kind);
  const head = columns.map((col) => `<th scope="col">${esc(t(col as Field))}</th>`).join('');
  const body = rows.map((r) => `<tr><th scope="row">${esc(cell(ctx, r.Group))}</th>${columns.slice(1).map((col) => `<td>${esc(numberCell(ctx, r[col]))}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table-wrap"><table id="tel-table"><caption>${esc(t('caption'))}</caption><thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

async function telemetryPage(ctx: PageContext) {
  const t = text(ctx.lang);
  const c = choice(ctx);
  const parts = [`<p class="hint">${esc(t('intro'))}</p>`, form(t, ctx, c)];
  const fields = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== ''));
  let rows: Row[];
  try {
    rows = await ctx.rows('Get-MmsTelemetryReport', fields);
  } catch (err) {
    // A report that cannot be made (OsName of usage events, a time that is not one): the form stays, with the reason.
    if (!(err instanceof MmsError || err instanceof HttpError)) throw err;
    parts.push(`<p class="alert" role="alert">${esc(err.message)}</p>`);
    return { title: common(ctx.lang)('telemetry'), body: parts.join('\n'), styles: ['/static/vendor/uPlot.min.css', 'telemetry.css'] };
  }
  const visible = rows.filter((r) => r.Hidden !== true);
  const hidden = rows.find((r) => r.Hidden === true);
  if (hidden) {
    // MinGroupSize as the report applied it (the setting may change between two requests).
    const vars = { n: Number(hidden.HiddenGroups), k: String(hidden.MinGroupSize), unit: t(c.Kind === 'Usage' ? 'devices' : 'users'), events: numberCell(ctx, hidden.Events) };
    parts.push(`<p class="note" id="tel-hidden">${esc(t(hidden.Events === null ? 'hiddenAll' : 'hidden', vars))}</p>`);
  }
  if (visible.length === 0) {
    if (!hidden) parts.push(`<p class="empty" id="tel-nothing">${esc(t('nothing'))}</p>`);
  } else {
    const codes = c.Kind === 'Error' && c.GroupBy === '';
    // What telemetry.js draws: the visible rows, which fields, and their names in the page language.
    const chart = { groupBy: c.GroupBy, series: CHART_SERIES[c.Kind].map((f) => [f, t(f as Field)]), codes, codeLabel: t('code'), eventsLabel: t('Events'), rows: visible };
    parts.push(`<div id="tel-chart" class="chart" role="img" aria-label="${esc(t(codes ? 'codesChart' : 'chart'))}" data-chart="${esc(JSON.stringify(chart))}"></div>`);
    parts.push(reportTable(t, ctx, c.Kind, visible));
  }
  return {
    title: common(ctx.lang)('telemetry'),
    body: `<div id="telemetry">${parts.join('\n')}</div>`,
    scripts: ['telemetry.js'],
    styles: ['/static/vendor/uPlot.min.css', 'telemetry.css'],
  };
}

export const TELEMETRY_PAGES: readonly AdminPage[] = [{ path: '/telemetry', nav: 'telemetry', render: telemetryPage }];
