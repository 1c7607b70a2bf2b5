// The Migrations pages' text in the admin center's languages, and the small pieces the list, the request page and
// the start page share: a state as words (never colour alone), a block diff as lines marked - and +, paging links.
import { MmsError } from '../../../domain/errors.js';
import { HttpError } from '../../errors.js';
import { messages } from '../i18n.js';
import { esc, queryText } from '../layout.js';
import type { PageContext } from '../page.js';

export const text = messages({
  en: {
    listTitle: 'Migrations', detailTitle: 'Migration {id}', startTitle: 'Start a migration',
    filters: 'Filter the requests', state: 'State', anyState: 'Any state', user: 'User (UPN or SIP address)', from: 'Created from (UTC)', to: 'Created until (UTC)',
    Pending: 'Pending', InProgress: 'In progress', Failed: 'Failed', Succeeded: 'Succeeded',
    requests: 'Migration requests, newest first', startLink: 'Start a migration', clear: 'Clear the filters',
    UserPrincipalName: 'User', CorrelationId: 'Correlation ID', CreateDate: 'Created', ModifiedDate: 'Modified', RetryCount: 'Retries',
    MigrationType: 'Migration type', TotalMeeting: 'Meetings', SucceededMeeting: 'Succeeded', FailedMeeting: 'Failed', SkippedMeeting: 'Skipped',
    InvitesUpdate: 'Invitations updated', QueuePosition: 'Place in the queue', NotBefore: 'Runs from', LastMessage: 'Last message', TriggerReasons: 'Why it was queued',
    retryAllTitle: 'Retry all failed', retryAllText: '{n} users\' latest migration failed. Retrying queues each of them again (Start-CsExMeetingMigration); fix the cause first (the last message says it).',
    retryAll: 'Retry all {n} failed', retryAllDone: 'Queued again.',
    statusTitle: 'Request', historyTitle: 'Meetings', history: 'What the migration did to each meeting',
    Time: 'Time', Subject: 'Subject', StartTime: 'Meeting starts', Action: 'Action', Reason: 'Reason', AttendeesNotified: 'Attendees notified', Attendee: 'Attendee',
    noSubject: '(no subject)', actions: 'Actions', retry: 'Retry', retryText: 'Queues {user}\'s meetings for migration again.',
    undo: 'Undo', undoText: 'Puts back the blocks this migration wrote and notifies the attendees. Meetings changed since are left alone.',
    undoForceText: 'Undo anyway: put back blocks that show values the directory no longer has.', undoForce: 'Undo anyway (-Force)', undoDone: 'Undo finished.',
    running: 'State of this request: {state}. This page reloads when it ends.', otherRequests: 'All requests of {user}',
    notFound: 'No migration {id} in this tenant.',
    identities: 'Users (UPN or SIP address; several separated by commas, spaces or lines)', preview: 'Preview (-WhatIf)',
    previewTitle: 'Preview: what would change', previewHint: 'Nothing was written. Each meeting shows its block diff: lines marked − go, lines marked + come.',
    Organizer: 'Organizer', diff: 'Block diff', noDiff: 'No change to the block.', noMeetings: 'No future meetings organized by these users.',
    start: 'Start the migration', startText: 'Queues the meetings of {users} for migration now; the worker updates them and notifies the attendees.',
    startDone: 'Queued.', summary: '{n} meetings: {update} would be updated, {other} left as they are.', removed: 'removed', added: 'added',
    mayNot: 'Your role ({role}) may read migrations but not start, retry or undo them.',
  },
  es: {
    listTitle: 'Migraciones', detailTitle: 'Migración {id}', startTitle: 'Iniciar una migración',
    filters: 'Filtrar las solicitudes', state: 'Estado', anyState: 'Cualquier estado', user: 'Usuario (UPN o dirección SIP)', from: 'Creadas desde (UTC)', to: 'Creadas hasta (UTC)',
    Pending: 'Pendiente', InProgress: 'En curso', Failed: 'Con error', Succeeded: 'Correcta',
    requests: 'Solicitudes de migración, las más recientes primero', startLink: 'Iniciar una migración', clear: 'Quitar los filtros',
    UserPrincipalName: 'Usuario', CorrelationId: 'Id. de correlación', CreateDate: 'Creada', ModifiedDate: 'Modificada', RetryCount: 'Reintentos',
    MigrationType: 'Tipo de migración', TotalMeeting: 'Reuniones', SucceededMeeting: 'Correctas', FailedMeeting: 'Con error', SkippedMeeting: 'Omitidas',
    InvitesUpdate: 'Invitaciones actualizadas', QueuePosition: 'Puesto en la cola', NotBefore: 'Se ejecuta desde', LastMessage: 'Último mensaje', TriggerReasons: 'Por qué se puso en cola',
    retryAllTitle: 'Reintentar todas las fallidas', retryAllText: 'La última migración de {n} usuarios falló. Reintentar vuelve a poner en cola a cada uno (Start-CsExMeetingMigration); corrija antes la causa (la indica el último mensaje).',
    retryAll: 'Reintentar las {n} fallidas', retryAllDone: 'Puestas de nuevo en cola.',
    statusTitle: 'Solicitud', historyTitle: 'Reuniones', history: 'Lo que la migración hizo con cada reunión',
    Time: 'Hora', Subject: 'Asunto', StartTime: 'Inicio de la reunión', Action: 'Acción', Reason: 'Motivo', AttendeesNotified: 'Asistentes notificados', Attendee: 'Asistente',
    noSubject: '(sin asunto)', actions: 'Acciones', retry: 'Reintentar', retryText: 'Vuelve a poner en cola la migración de las reuniones de {user}.',
    undo: 'Deshacer', undoText: 'Restaura los bloques que escribió esta migración y notifica a los asistentes. Las reuniones cambiadas desde entonces no se tocan.',
    undoForceText: 'Deshacer de todos modos: restaurar bloques con valores que el directorio ya no tiene.', undoForce: 'Deshacer de todos modos (-Force)', undoDone: 'Se deshizo la migración.',
    running: 'Estado de esta solicitud: {state}. La página se recarga cuando termine.', otherRequests: 'Todas las solicitudes de {user}',
    notFound: 'No hay ninguna migración {id} en este inquilino.',
    identities: 'Usuarios (UPN o dirección SIP; varios separados por comas, espacios o líneas)', preview: 'Vista previa (-WhatIf)',
    previewTitle: 'Vista previa: qué cambiaría', previewHint: 'No se escribió nada. Cada reunión muestra el cambio de su bloque: las líneas con − se van, las líneas con + llegan.',
    Organizer: 'Organizador', diff: 'Cambio del bloque', noDiff: 'El bloque no cambia.', noMeetings: 'Estos usuarios no organizan reuniones futuras.',
    start: 'Iniciar la migración', startText: 'Pone en cola ahora las reuniones de {users}; el proceso de migración las actualiza y notifica a los asistentes.',
    startDone: 'En cola.', summary: '{n} reuniones: {update} se actualizarían, {other} quedan como están.', removed: 'se quita', added: 'se añade',
    mayNot: 'Su rol ({role}) puede ver las migraciones, pero no iniciarlas, reintentarlas ni deshacerlas.',
  },
  fr: {
    listTitle: 'Migrations', detailTitle: 'Migration {id}', startTitle: 'Lancer une migration',
    filters: 'Filtrer les demandes', state: 'État', anyState: 'Tous les états', user: 'Utilisateur (UPN ou adresse SIP)', from: 'Créées depuis (UTC)', to: 'Créées jusqu’au (UTC)',
    Pending: 'En attente', InProgress: 'En cours', Failed: 'Échec', Succeeded: 'Réussie',
    requests: 'Demandes de migration, les plus récentes d’abord', startLink: 'Lancer une migration', clear: 'Effacer les filtres',
    UserPrincipalName: 'Utilisateur', CorrelationId: 'ID de corrélation', CreateDate: 'Créée', ModifiedDate: 'Modifiée', RetryCount: 'Nouvelles tentatives',
    MigrationType: 'Type de migration', TotalMeeting: 'Réunions', SucceededMeeting: 'Réussies', FailedMeeting: 'En échec', SkippedMeeting: 'Ignorées',
    InvitesUpdate: 'Invitations mises à jour', QueuePosition: 'Place dans la file', NotBefore: 'S’exécute à partir de', LastMessage: 'Dernier message', TriggerReasons: 'Pourquoi elle a été mise en file',
    retryAllTitle: 'Relancer tous les échecs', retryAllText: 'La dernière migration de {n} utilisateurs a échoué. Relancer remet chacun d’eux en file (Start-CsExMeetingMigration) ; corrigez d’abord la cause (le dernier message la donne).',
    retryAll: 'Relancer les {n} échecs', retryAllDone: 'Remis en file.',
    statusTitle: 'Demande', historyTitle: 'Réunions', history: 'Ce que la migration a fait de chaque réunion',
    Time: 'Heure', Subject: 'Objet', StartTime: 'Début de la réunion', Action: 'Action', Reason: 'Raison', AttendeesNotified: 'Participants avertis', Attendee: 'Participant',
    noSubject: '(sans objet)', actions: 'Actions', retry: 'Relancer', retryText: 'Remet en file la migration des réunions de {user}.',
    undo: 'Annuler', undoText: 'Remet les blocs que cette migration a écrits et avertit les participants. Les réunions modifiées depuis ne sont pas touchées.',
    undoForceText: 'Annuler quand même : remettre des blocs qui montrent des valeurs que l’annuaire n’a plus.', undoForce: 'Annuler quand même (-Force)', undoDone: 'Annulation terminée.',
    running: 'État de cette demande : {state}. La page se recharge quand elle se termine.', otherRequests: 'Toutes les demandes de {user}',
    notFound: 'Aucune migration {id} dans ce locataire.',
    identities: 'Utilisateurs (UPN ou adresse SIP ; plusieurs séparés par des virgules, des espaces ou des lignes)', preview: 'Aperçu (-WhatIf)',
    previewTitle: 'Aperçu : ce qui changerait', previewHint: 'Rien n’a été écrit. Chaque réunion montre la différence de son bloc : les lignes marquées − partent, celles marquées + arrivent.',
    Organizer: 'Organisateur', diff: 'Différence du bloc', noDiff: 'Le bloc ne change pas.', noMeetings: 'Ces utilisateurs n’organisent aucune réunion à venir.',
    start: 'Lancer la migration', startText: 'Met en file maintenant les réunions de {users} ; le processus de migration les met à jour et avertit les participants.',
    startDone: 'Mis en file.', summary: '{n} réunions : {update} seraient mises à jour, {other} restent telles quelles.', removed: 'retiré', added: 'ajouté',
    mayNot: 'Votre rôle ({role}) peut consulter les migrations mais pas les lancer, les relancer ni les annuler.',
  },
  it: {
    listTitle: 'Migrazioni', detailTitle: 'Migrazione {id}', startTitle: 'Avvia una migrazione',
    filters: 'Filtra le richieste', state: 'Stato', anyState: 'Qualsiasi stato', user: 'Utente (UPN o indirizzo SIP)', from: 'Create dal (UTC)', to: 'Create fino al (UTC)',
    Pending: 'In attesa', InProgress: 'In corso', Failed: 'Non riuscita', Succeeded: 'Riuscita',
    requests: 'Richieste di migrazione, le più recenti per prime', startLink: 'Avvia una migrazione', clear: 'Cancella i filtri',
    UserPrincipalName: 'Utente', CorrelationId: 'ID di correlazione', CreateDate: 'Creata', ModifiedDate: 'Modificata', RetryCount: 'Tentativi ripetuti',
    MigrationType: 'Tipo di migrazione', TotalMeeting: 'Riunioni', SucceededMeeting: 'Riuscite', FailedMeeting: 'Non riuscite', SkippedMeeting: 'Saltate',
    InvitesUpdate: 'Inviti aggiornati', QueuePosition: 'Posizione in coda', NotBefore: 'Esecuzione dal', LastMessage: 'Ultimo messaggio', TriggerReasons: 'Perché è stata accodata',
    retryAllTitle: 'Riprova tutte quelle non riuscite', retryAllText: 'L’ultima migrazione di {n} utenti non è riuscita. Riprovare rimette in coda ciascuno di essi (Start-CsExMeetingMigration); prima correggi la causa (la indica l’ultimo messaggio).',
    retryAll: 'Riprova le {n} non riuscite', retryAllDone: 'Rimesse in coda.',
    statusTitle: 'Richiesta', historyTitle: 'Riunioni', history: 'Cosa ha fatto la migrazione a ogni riunione',
    Time: 'Ora', Subject: 'Oggetto', StartTime: 'Inizio della riunione', Action: 'Azione', Reason: 'Motivo', AttendeesNotified: 'Partecipanti avvisati', Attendee: 'Partecipante',
    noSubject: '(senza oggetto)', actions: 'Azioni', retry: 'Riprova', retryText: 'Rimette in coda la migrazione delle riunioni di {user}.',
    undo: 'Annulla', undoText: 'Ripristina i blocchi scritti da questa migrazione e avvisa i partecipanti. Le riunioni modificate nel frattempo non vengono toccate.',
    undoForceText: 'Annulla comunque: ripristina blocchi con valori che la directory non ha più.', undoForce: 'Annulla comunque (-Force)', undoDone: 'Annullamento completato.',
    running: 'Stato di questa richiesta: {state}. La pagina si ricarica quando termina.', otherRequests: 'Tutte le richieste di {user}',
    notFound: 'Nessuna migrazione {id} in questo tenant.',
    identities: 'Utenti (UPN o indirizzo SIP; più utenti separati da virgole, spazi o righe)', preview: 'Anteprima (-WhatIf)',
    previewTitle: 'Anteprima: cosa cambierebbe', previewHint: 'Non è stato scritto nulla. Ogni riunione mostra la differenza del blocco: le righe con − escono, quelle con + entrano.',
    Organizer: 'Organizzatore', diff: 'Differenza del blocco', noDiff: 'Il blocco non cambia.', noMeetings: 'Questi utenti non organizzano riunioni future.',
    start: 'Avvia la migrazione', startText: 'Mette in coda ora le riunioni di {users}; il processo di migrazione le aggiorna e avvisa i partecipanti.',
    startDone: 'In coda.', summary: '{n} riunioni: {update} verrebbero aggiornate, {other} restano come sono.', removed: 'rimossa', added: 'aggiunta',
    mayNot: 'Il tuo ruolo ({role}) può vedere le migrazioni ma non avviarle, riprovarle o annullarle.',
  },
});

export type MigrationText = ReturnType<typeof text>;

export const STATES = ['Pending', 'InProgress', 'Failed', 'Succeeded'] as const;
export type State = (typeof STATES)[number];
const isState = (s: unknown): s is State => typeof s === 'string' && (STATES as readonly string[]).includes(s);

/** A request's state as words in the page language (the class only adds colour to what the words say). */
export function stateBadge(ctx: PageContext, state: unknown): string {
  if (!isState(state)) return esc(String(state ?? '—'));
  return `<span class="mig-state mig-state-${state}">${esc(text(ctx.lang)(state))}</span>`;
}

/** A block diff (`- ` and `+ ` lines, as the CLI prints it) as lines a screen reader names too. */
export function diffHtml(ctx: PageContext, diff: string): string {
  const t = text(ctx.lang);
  const lines = diff.split('\n').filter((l) => l !== '').map((l) => {
    const gone = l.startsWith('- ');
    const come = l.startsWith('+ ');
    const body = gone || come ? l.slice(2) : l;
    if (!gone && !come) return `<span class="mig-line">${esc(body)}</span>`;
    const kind = gone ? 'del' : 'ins';
    return `<${kind} class="mig-line"><span class="mig-mark" aria-hidden="true">${gone ? '−' : '+'}</span><span class="visually-hidden">${esc(gone ? t('removed') : t('added'))}: </span>${esc(body)}</${kind}>`;
  });
  // The lines are blocks of their own: a newline between them would show as an empty line in <pre>.
  return `<pre class="diff mig-diff">${lines.join('')}</pre>`;
}

/** A 1-based page number from ?page= (anything else: 1). */
export function pageNumber(ctx: PageContext): number {
  const n = Number(queryText(ctx, 'page'));
  return Number.isSafeInteger(n) && n >= 1 ? n : 1;
}

/** `path` with `params` as its query string (empty values left out). */
export function href(path: string, params: Readonly<Record<string, string | number | undefined>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** The error a page may show in its frame, as text, or undefined for errors that are MMS's own fault. */
export function readError(err: unknown): string | undefined {
  if (err instanceof MmsError && err.code !== 'Transient') return err.message;
  if (err instanceof HttpError && err.status < 500) return err.message;
  return undefined;
}
