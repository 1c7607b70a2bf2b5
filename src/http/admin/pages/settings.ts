// Admin center: the settings page (issue 10 §3). The tenant's migration setting (Get-CsTenantMigrationConfiguration)
// and audio-conferencing settings (Get-CsOnlineDialInConferencingTenantSettings), each with one sentence of what it
// does. A TenantAdmin gets them as forms the browser PATCHes to the REST API (the Set- cmdlets' routes); everyone
// else reads them.
import { messages } from '../i18n.js';
import { cell, common, esc } from '../layout.js';
import type { AdminPage, PageContext } from '../page.js';
import { MEETING_MIGRATION_SOURCE_TYPES, MEETING_MIGRATION_TARGET_TYPES } from '../../../domain/teams-upgrade.js';

type SettingKey =
  | 'MeetingMigrationEnabled'
  | 'MeetingMigrationSourceMeetingTypes'
  | 'MeetingMigrationTargetMeetingTypes'
  | 'AutomaticallyMigrateUserMeetings'
  | 'AutomaticallyReplaceAcpProvider'
  | 'PinLength'
  | 'MaxMeetingAttendees'
  | 'PreserveEditedBlocks'
  | 'TimeZone'
  | 'AutomaticallySendEmailsToUsers';

interface Setting {
  readonly key: SettingKey;
  readonly type: 'bool' | 'int' | 'text' | 'enum';
  /** For 'enum': the values the select offers. */
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
}

const MIGRATION: readonly Setting[] = [
  { key: 'MeetingMigrationEnabled', type: 'bool' },
  { key: 'MeetingMigrationSourceMeetingTypes', type: 'enum', values: MEETING_MIGRATION_SOURCE_TYPES },
  { key: 'MeetingMigrationTargetMeetingTypes', type: 'enum', values: MEETING_MIGRATION_TARGET_TYPES },
];
const DIAL_IN: readonly Setting[] = [
  { key: 'AutomaticallyMigrateUserMeetings', type: 'bool' },
  { key: 'AutomaticallyReplaceAcpProvider', type: 'bool' },
  { key: 'PinLength', type: 'int', min: 4, max: 12 },
  { key: 'MaxMeetingAttendees', type: 'int', min: 1 },
  { key: 'PreserveEditedBlocks', type: 'bool' },
  { key: 'TimeZone', type: 'text' },
  { key: 'AutomaticallySendEmailsToUsers', type: 'bool' },
];

const text = messages({
  en: {
    migration: 'Meeting migration', dialIn: 'Audio conferencing', setting: 'Setting', value: 'Value', what: 'What it does',
    saved: 'Saved.', readOnly: 'Only a TenantAdmin may change these settings.', saveMigration: 'Save meeting migration', saveDialIn: 'Save audio conferencing',
    MeetingMigrationEnabled: 'When off, MMS migrates no meetings automatically for anyone in the tenant; Start-CsExMeetingMigration still works.',
    MeetingMigrationSourceMeetingTypes: 'Which meetings automatic migrations touch: All, SfB (Skype for Business) or Teams. Start-CsExMeetingMigration is not restricted.',
    MeetingMigrationTargetMeetingTypes: 'Teams lets automatic migrations (a Teams upgrade) convert Skype for Business meetings to Teams; Current never converts. Start-CsExMeetingMigration is not restricted.',
    AutomaticallyMigrateUserMeetings: 'When on, audio-conferencing changes (licence, provider, bridge, numbers, conference ID) migrate the user\'s meetings; moves online always do.',
    AutomaticallyReplaceAcpProvider: 'When on, assigning the Audio Conferencing licence switches a user from a third-party provider to Microsoft.',
    PinLength: 'How many digits a new leader PIN has (4 to 12).',
    MaxMeetingAttendees: 'Meetings with more attendees than this, organizer included, are skipped rather than migrated.',
    PreserveEditedBlocks: 'When on, a meeting whose online meeting block the organizer edited by hand is skipped instead of overwritten.',
    TimeZone: 'The time zone of floating meeting times for users without one of their own (IANA or Windows name).',
    AutomaticallySendEmailsToUsers: 'When on, users are emailed their own dial-in details in their language when they change (with a new leader PIN when one is issued); when off, a new PIN is shown once to the admin who made the change.',
  },
  es: {
    migration: 'Migración de reuniones', dialIn: 'Audioconferencia', setting: 'Configuración', value: 'Valor', what: 'Qué hace',
    saved: 'Guardado.', readOnly: 'Solo un TenantAdmin puede cambiar esta configuración.', saveMigration: 'Guardar migración de reuniones', saveDialIn: 'Guardar audioconferencia',
    MeetingMigrationEnabled: 'Si está desactivado, MMS no migra automáticamente ninguna reunión del inquilino; Start-CsExMeetingMigration sigue funcionando.',
    MeetingMigrationSourceMeetingTypes: 'Qué reuniones tocan las migraciones automáticas: All (todas), SfB (Skype Empresarial) o Teams. Start-CsExMeetingMigration no está restringido.',
    MeetingMigrationTargetMeetingTypes: 'Teams permite que las migraciones automáticas (una actualización a Teams) conviertan las reuniones de Skype Empresarial en reuniones de Teams; Current nunca convierte. Start-CsExMeetingMigration no está restringido.',
    AutomaticallyMigrateUserMeetings: 'Si está activado, los cambios de audioconferencia (licencia, proveedor, puente, números, id. de conferencia) migran las reuniones del usuario; los traslados a la nube siempre lo hacen.',
    AutomaticallyReplaceAcpProvider: 'Si está activado, asignar la licencia de audioconferencia cambia a un usuario de un proveedor externo a Microsoft.',
    PinLength: 'Cuántos dígitos tiene un nuevo PIN de organizador (de 4 a 12).',
    MaxMeetingAttendees: 'Las reuniones con más asistentes que este número, incluido el organizador, se omiten en lugar de migrarse.',
    PreserveEditedBlocks: 'Si está activado, una reunión cuyo bloque de reunión en línea editó el organizador a mano se omite en lugar de sobrescribirse.',
    TimeZone: 'La zona horaria de las horas flotantes de las reuniones de usuarios sin zona propia (nombre IANA o de Windows).',
    AutomaticallySendEmailsToUsers: 'Si está activado, los usuarios reciben por correo sus datos de acceso telefónico en su idioma cuando cambian (con el nuevo PIN de organizador si se emite uno); si no, el nuevo PIN se muestra una vez al administrador que hizo el cambio.',
  },
  fr: {
    migration: 'Migration des réunions', dialIn: 'Audioconférence', setting: 'Paramètre', value: 'Valeur', what: 'Ce qu’il fait',
    saved: 'Enregistré.', readOnly: 'Seul un TenantAdmin peut modifier ces paramètres.', saveMigration: 'Enregistrer la migration des réunions', saveDialIn: 'Enregistrer l’audioconférence',
    MeetingMigrationEnabled: 'Désactivé, MMS ne migre automatiquement aucune réunion du locataire ; Start-CsExMeetingMigration fonctionne toujours.',
    MeetingMigrationSourceMeetingTypes: 'Les réunions que touchent les migrations automatiques : All (toutes), SfB (Skype Entreprise) ou Teams. Start-CsExMeetingMigration n’est pas restreint.',
    MeetingMigrationTargetMeetingTypes: 'Teams permet aux migrations automatiques (une mise à niveau vers Teams) de convertir les réunions Skype Entreprise en réunions Teams ; Current ne convertit jamais. Start-CsExMeetingMigration n’est pas restreint.',
    AutomaticallyMigrateUserMeetings: 'Activé, les changements d’audioconférence (licence, fournisseur, pont, numéros, ID de conférence) migrent les réunions de l’utilisateur ; les déplacements en ligne le font toujours.',
    AutomaticallyReplaceAcpProvider: 'Activé, attribuer la licence d’audioconférence fait passer un utilisateur d’un fournisseur tiers à Microsoft.',
    PinLength: 'Le nombre de chiffres d’un nouveau code PIN d’organisateur (de 4 à 12).',
    MaxMeetingAttendees: 'Les réunions comptant plus de participants que ce nombre, organisateur compris, sont ignorées au lieu d’être migrées.',
    PreserveEditedBlocks: 'Activé, une réunion dont l’organisateur a modifié à la main le bloc de réunion en ligne est ignorée au lieu d’être écrasée.',
    TimeZone: 'Le fuseau horaire des heures flottantes des réunions pour les utilisateurs sans fuseau propre (nom IANA ou Windows).',
    AutomaticallySendEmailsToUsers: 'Activé, les utilisateurs reçoivent par e-mail leurs informations d’appel dans leur langue quand elles changent (avec un nouveau code PIN quand il en est émis un) ; désactivé, un nouveau code PIN est affiché une fois à l’administrateur qui a fait le changement.',
  },
  it: {
    migration: 'Migrazione delle riunioni', dialIn: 'Audioconferenza', setting: 'Impostazione', value: 'Valore', what: 'Cosa fa',
    saved: 'Salvato.', readOnly: 'Solo un TenantAdmin può modificare queste impostazioni.', saveMigration: 'Salva migrazione delle riunioni', saveDialIn: 'Salva audioconferenza',
    MeetingMigrationEnabled: 'Se disattivata, MMS non migra automaticamente alcuna riunione del tenant; Start-CsExMeetingMigration funziona comunque.',
    MeetingMigrationSourceMeetingTypes: 'Quali riunioni toccano le migrazioni automatiche: All (tutte), SfB (Skype for Business) o Teams. Start-CsExMeetingMigration non è limitato.',
    MeetingMigrationTargetMeetingTypes: 'Teams consente alle migrazioni automatiche (un aggiornamento a Teams) di convertire le riunioni Skype for Business in riunioni Teams; Current non converte mai. Start-CsExMeetingMigration non è limitato.',
    AutomaticallyMigrateUserMeetings: 'Se attivata, le modifiche all\'audioconferenza (licenza, provider, bridge, numeri, ID conferenza) migrano le riunioni dell\'utente; gli spostamenti online lo fanno sempre.',
    AutomaticallyReplaceAcpProvider: 'Se attivata, l\'assegnazione della licenza di audioconferenza passa un utente da un provider di terze parti a Microsoft.',
    PinLength: 'Quante cifre ha un nuovo PIN dell\'organizzatore (da 4 a 12).',
    MaxMeetingAttendees: 'Le riunioni con più partecipanti di questo numero, organizzatore incluso, vengono saltate invece che migrate.',
    PreserveEditedBlocks: 'Se attivata, una riunione il cui blocco di riunione online è stato modificato a mano dall\'organizzatore viene saltata invece che sovrascritta.',
    TimeZone: 'Il fuso orario degli orari mobili delle riunioni per gli utenti senza un fuso proprio (nome IANA o Windows).',
    AutomaticallySendEmailsToUsers: 'Se attivata, gli utenti ricevono per e-mail i propri dati di chiamata nella loro lingua quando cambiano (con il nuovo PIN se ne viene emesso uno); se disattivata, il nuovo PIN viene mostrato una volta all\'amministratore che ha fatto la modifica.',
  },
});

function control(ctx: PageContext, s: Setting, value: unknown): string {
  const c = common(ctx.lang);
  const id = `setting-${s.key}`;
  const described = `aria-describedby="${id}-what"`;
  if (s.type === 'bool') {
    const opt = (v: boolean) => `<option value="${v}"${value === v ? ' selected' : ''}>${esc(v ? c('yes') : c('no'))}</option>`;
    return `<select id="${id}" name="${s.key}" data-type="bool" ${described}>${opt(true)}${opt(false)}</select>`;
  }
  if (s.type === 'enum') {
    const opts = (s.values ?? []).map((v) => `<option value="${esc(v)}"${value === v ? ' selected' : ''}>${esc(v)}</option>`).join('');
    return `<select id="${id}" name="${s.key}" ${described}>${opts}</select>`;
  }
  if (s.type === 'int') {
    return `<input type="number" id="${id}" name="${s.key}" data-type="int" required value="${esc(String(value ?? ''))}"${s.min !== undefined ? ` min="${s.min}"` : ''}${s.max !== undefined ? ` max="${s.max}"` : ''} ${described}>`;
  }
  return `<input type="text" id="${id}" name="${s.key}" value="${esc(String(value ?? ''))}" ${described}>`;
}

/** One section: a form a TenantAdmin submits to `api`, or a read-only table. */
function section(ctx: PageContext, opts: { id: string; heading: string; save: string; api: string; settings: readonly Setting[]; values: Record<string, unknown> }): string {
  const t = text(ctx.lang);
  const heading = `<h2 id="${opts.id}-heading">${esc(opts.heading)}</h2>`;
  if (!ctx.may('TenantAdmin')) {
    const rows = opts.settings.map((s) => `<tr><th scope="row">${esc(s.key)}</th><td>${esc(cell(ctx, opts.values[s.key]))}</td><td>${esc(t(s.key))}</td></tr>`).join('\n');
    return `<section class="card" aria-labelledby="${opts.id}-heading">${heading}
<div class="table-wrap"><table id="${opts.id}-table"><caption>${esc(opts.heading)}</caption><thead><tr><th scope="col">${esc(t('setting'))}</th><th scope="col">${esc(t('value'))}</th><th scope="col">${esc(t('what'))}</th></tr></thead>
<tbody>${rows}</tbody></table></div></section>`;
  }
  const tenant = ctx.tenant !== undefined ? `<input type="hidden" name="Tenant" value="${esc(ctx.tenant)}">` : '';
  const fields = opts.settings.map((s) => `<div class="setting">
<label for="setting-${s.key}">${esc(s.key)}</label>
<p class="hint" id="setting-${s.key}-what">${esc(t(s.key))}</p>
${control(ctx, s, opts.values[s.key])}
</div>`).join('\n');
  return `<section class="card" aria-labelledby="${opts.id}-heading">${heading}
<form id="${opts.id}-form" class="stack settings" data-api="${opts.api}" data-method="PATCH" data-done="${esc(t('saved'))}">${tenant}
${fields}
<button type="submit">${esc(opts.save)}</button>
<div data-result role="status" aria-live="polite"></div>
</form></section>`;
}

export const SETTINGS_PAGES: readonly AdminPage[] = [
  {
    path: '/settings',
    nav: 'settings',
    async render(ctx) {
      const t = text(ctx.lang);
      const [migration, dialIn] = await Promise.all([ctx.value('Get-CsTenantMigrationConfiguration'), ctx.value('Get-CsOnlineDialInConferencingTenantSettings')]);
      const body = [
        ctx.may('TenantAdmin') ? '' : `<p class="hint">${esc(t('readOnly'))}</p>`,
        section(ctx, { id: 'migration', heading: t('migration'), save: t('saveMigration'), api: '/api/v1/migration-configuration', settings: MIGRATION, values: migration }),
        section(ctx, { id: 'dial-in', heading: t('dialIn'), save: t('saveDialIn'), api: '/api/v1/dial-in-settings', settings: DIAL_IN, values: dialIn }),
      ].join('\n');
      return { title: common(ctx.lang)('settings'), body, styles: ['misc.css'] };
    },
  },
];
