/**
 * Everything one language needs to render (and later recognise) a meeting block. Adding a language means adding
 * one entry here and nothing else: the renderer, the locator and the parser all read this table.
 */
export interface BlockLocale {
  /** BCP 47 tag written into the HTML `lang` attribute. */
  readonly tag: string;
  readonly joinMeeting: string;
  readonly joinByPhone: string;
  readonly toll: string;
  readonly tollFree: string;
  readonly conferenceId: string;
  /** Shown instead of `conferenceId` for a third-party audio-conferencing provider. */
  readonly participantPasscode: string;
  readonly findLocalNumber: string;
  readonly sharedNotes: string;
  /** Heading of a Teams block (issue 12), as the Teams add-in writes it in this language. */
  readonly teamsHeading: string;
  /** Label of a Teams block's join link, as the Teams add-in writes it in this language. */
  readonly teamsJoinMeeting: string;
  /** Label of the line naming a third-party audio-conferencing provider. */
  readonly provider: string;
  /** Between a label and its value: French wants a no-break space before the colon, CJK a full-width colon. */
  readonly colon: string;
  /** One dial-in line; `{number}`, `{label}` (city/region) and `{kind}` (toll / toll-free) are filled in. */
  readonly numberLine: string;
  /** CONFERENCE label of a dial-in number; `{label}` and `{kind}` are filled in. */
  readonly phoneLabel: string;
  /** A dial-in line whose number has no city/region label and no country to name (`+800 …`): `{number}`, `{kind}`. */
  readonly numberLineUnlabelled: string;
  /** CONFERENCE label of such a number: `{kind}`. */
  readonly phoneLabelUnlabelled: string;
}

const LOCALES = {
  en: {
    tag: 'en',
    joinMeeting: 'Join online meeting',
    joinByPhone: 'Join by phone',
    toll: 'Toll',
    tollFree: 'Toll-free',
    conferenceId: 'Conference ID',
    participantPasscode: 'Participant passcode',
    findLocalNumber: 'Find a local number',
    sharedNotes: 'Shared meeting notes',
    teamsHeading: 'Microsoft Teams meeting',
    teamsJoinMeeting: 'Click here to join the meeting',
    provider: 'Audio conferencing provider',
    colon: ': ',
    numberLine: '{number} ({label}) {kind}',
    phoneLabel: '{label} ({kind})',
    numberLineUnlabelled: '{number} {kind}',
    phoneLabelUnlabelled: '{kind}',
  },
  es: {
    tag: 'es',
    joinMeeting: 'Unirse a la reunión en línea',
    joinByPhone: 'Unirse por teléfono',
    toll: 'De pago',
    tollFree: 'Gratuito',
    conferenceId: 'Id. de conferencia',
    participantPasscode: 'Código de acceso del participante',
    findLocalNumber: 'Buscar un número local',
    sharedNotes: 'Notas compartidas de la reunión',
    teamsHeading: 'Reunión de Microsoft Teams',
    teamsJoinMeeting: 'Haga clic aquí para unirse a la reunión',
    provider: 'Proveedor de audioconferencia',
    colon: ': ',
    numberLine: '{number} ({label}) {kind}',
    phoneLabel: '{label} ({kind})',
    numberLineUnlabelled: '{number} {kind}',
    phoneLabelUnlabelled: '{kind}',
  },
  fr: {
    tag: 'fr',
    joinMeeting: 'Rejoindre la réunion en ligne',
    joinByPhone: 'Rejoindre par téléphone',
    toll: 'Payant',
    tollFree: 'Gratuit',
    conferenceId: 'ID de conférence',
    participantPasscode: 'Code d’accès participant',
    findLocalNumber: 'Trouver un numéro local',
    sharedNotes: 'Notes de réunion partagées',
    teamsHeading: 'Réunion Microsoft Teams',
    teamsJoinMeeting: 'Cliquez ici pour participer à la réunion',
    provider: 'Fournisseur d’audioconférence',
    colon: '\u00a0: ',
    numberLine: '{number} ({label}) {kind}',
    phoneLabel: '{label} ({kind})',
    numberLineUnlabelled: '{number} {kind}',
    phoneLabelUnlabelled: '{kind}',
  },
  it: {
    tag: 'it',
    joinMeeting: 'Partecipa alla riunione online',
    joinByPhone: 'Partecipa per telefono',
    toll: 'A pagamento',
    tollFree: 'Numero verde',
    conferenceId: 'ID conferenza',
    participantPasscode: 'Codice di accesso partecipante',
    findLocalNumber: 'Trova un numero locale',
    sharedNotes: 'Note condivise della riunione',
    teamsHeading: 'Riunione di Microsoft Teams',
    teamsJoinMeeting: 'Fai clic qui per partecipare alla riunione',
    provider: 'Provider di audioconferenza',
    colon: ': ',
    numberLine: '{number} ({label}) {kind}',
    phoneLabel: '{label} ({kind})',
    numberLineUnlabelled: '{number} {kind}',
    phoneLabelUnlabelled: '{kind}',
  },
  de: {
    tag: 'de',
    joinMeeting: 'An Onlinebesprechung teilnehmen',
    joinByPhone: 'Per Telefon teilnehmen',
    toll: 'Gebührenpflichtig',
    tollFree: 'Gebührenfrei',
    conferenceId: 'Konferenz-ID',
    participantPasscode: 'Teilnehmer-Passcode',
    findLocalNumber: 'Lokale Nummer suchen',
    sharedNotes: 'Freigegebene Besprechungsnotizen',
    teamsHeading: 'Microsoft Teams-Besprechung',
    teamsJoinMeeting: 'Klicken Sie hier, um an der Besprechung teilzunehmen',
    provider: 'Audiokonferenzanbieter',
    colon: ': ',
    numberLine: '{number} ({label}) {kind}',
    phoneLabel: '{label} ({kind})',
    numberLineUnlabelled: '{number} {kind}',
    phoneLabelUnlabelled: '{kind}',
  },
  ja: {
    tag: 'ja',
    joinMeeting: 'オンライン会議に参加',
    joinByPhone: '電話で参加',
    toll: '有料',
    tollFree: '通話料無料',
    conferenceId: '会議 ID',
    participantPasscode: '参加者パスコード',
    findLocalNumber: 'ローカル番号を検索',
    sharedNotes: '共有の会議ノート',
    teamsHeading: 'Microsoft Teams 会議',
    teamsJoinMeeting: 'ここをクリックして会議に参加してください',
    provider: '電話会議プロバイダー',
    colon: '：',
    numberLine: '{number}（{label}）{kind}',
    phoneLabel: '{label}（{kind}）',
    numberLineUnlabelled: '{number} {kind}',
    phoneLabelUnlabelled: '{kind}',
  },
  'zh-Hans': {
    tag: 'zh-Hans',
    joinMeeting: '加入联机会议',
    joinByPhone: '通过电话加入',
    toll: '收费',
    tollFree: '免费',
    conferenceId: '会议 ID',
    participantPasscode: '参与者密码',
    findLocalNumber: '查找本地号码',
    sharedNotes: '共享会议笔记',
    teamsHeading: 'Microsoft Teams 会议',
    teamsJoinMeeting: '单击此处加入会议',
    provider: '音频会议提供商',
    colon: '：',
    numberLine: '{number}（{label}）{kind}',
    phoneLabel: '{label}（{kind}）',
    numberLineUnlabelled: '{number} {kind}',
    phoneLabelUnlabelled: '{kind}',
  },
} as const satisfies Record<string, BlockLocale>;

export type SupportedLanguage = keyof typeof LOCALES;

/** Languages a block can be rendered in; anything else falls back to English. */
export const SUPPORTED_LANGUAGES: readonly string[] = Object.freeze(Object.keys(LOCALES));

/** Every locale, for recognising blocks written in any of them. */
export const ALL_LOCALES: readonly BlockLocale[] = Object.values(LOCALES);

/**
 * Picks the block language for a BCP 47 tag: exact match, then the primary language (`fr-CA` -> `fr`), then `en`.
 * Chinese maps to Simplified unless the tag asks for Traditional (`zh-Hant`, `zh-TW`, `zh-HK`, `zh-MO`), which falls
 * back to English rather than showing a Traditional-Chinese reader the other script.
 */
export function resolveLanguage(tag: string): SupportedLanguage {
  const parts = tag.trim().replace(/_/g, '-').split('-').filter((p) => p !== '').map((p) => p.toLowerCase());
  const primary = parts[0] ?? '';
  if (primary === 'zh') {
    const traditional = parts.slice(1).some((p) => p === 'hant' || p === 'tw' || p === 'hk' || p === 'mo');
    return traditional ? 'en' : 'zh-Hans';
  }
  return Object.hasOwn(LOCALES, primary) && primary !== 'zh-Hans' ? (primary as SupportedLanguage) : 'en';
}

/** The string table of a resolved language. */
export function localeFor(language: string): BlockLocale {
  return LOCALES[resolveLanguage(language)];
}

/** Fills `{name}` placeholders in one pass, so a value that itself contains `{kind}` is never substituted again. */
export function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
