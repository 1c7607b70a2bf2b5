// What the demo's meetings say: subjects and bodies in each organizer's language, with the scripts a migration
// must carry through untouched (emoji, CJK, Arabic and Hebrew right-to-left text, combining marks).

export interface LanguageContent {
  /** One-off meetings; `{project}`, `{partner}` and `{who}` are filled in. */
  readonly subjects: readonly string[];
  /** Recurring series. */
  readonly series: readonly string[];
  /** Invitation texts placed before the online meeting block. */
  readonly bodies: readonly string[];
}

export const PROJECTS = ['Falcon', 'Aurora', 'Northwind', 'Contoso Pay', 'Mercury', 'Helios'] as const;

/** External organizations and the people Contoso meets there. */
export const EXTERNAL_DOMAINS = ['fabrikam.com', 'example.org', 'adventure-works.com', 'litwareinc.com', 'tailspintoys.com', 'example.com'] as const;
export const EXTERNAL_PEOPLE = [
  'j.weber', 'a.kowalski', 'm.okafor', 'l.nguyen', 'r.haddad', 's.cohen', 'e.rossi', 'k.tanaka', 'p.silva', 'd.murphy',
  'h.kim', 'n.petrov', 'o.larsen', 'y.mizrahi', 'f.alami', 'c.obrien', 'g.dubois', 'b.schmitt', 't.wang', 'i.costa',
] as const;

const CONTENT: Readonly<Record<string, LanguageContent>> = {
  'en-US': {
    subjects: [
      '{project} design review', 'Customer call: {partner}', 'Budget check-in', '1:1 with {who}', '{project} kickoff 🚀',
      'Quarterly business review — {partner}', 'Hiring debrief', 'Security review: {project}', 'Partner onboarding ({partner})',
      'Roadmap planning ☕', 'Incident postmortem', 'Lunch & learn: accessibility', 'Contract renewal with {partner}',
    ],
    series: ['Weekly team sync', 'Daily stand-up', '{project} weekly status', 'Sales pipeline review', 'Office hours'],
    bodies: [
      'Hi all,\n\nAgenda:\n1. Status of {project} 📊\n2. Open risks\n3. Next steps\n\nThanks!',
      'Let’s walk through the latest numbers before the board meeting. Slides to follow 📎',
      'Quick sync with {partner}. Please review the deck beforehand — they’ll ask about pricing 💰.',
      'Welcome to our guests from {partner}! أهلاً وسهلاً — שלום וברוכים הבאים 👋\nWe will keep it to 45 minutes.',
      'Notes from last time are in the shared folder. Zoë will present the café rollout (Zoe\u0308, cafe\u0301 pilot).',
      'Dial in if you are travelling ✈️. Questions: reply to this invite.',
    ],
  },
  'es-ES': {
    subjects: [
      'Revisión de diseño de {project}', 'Llamada con {partner}', 'Presupuesto del trimestre', 'Reunión 1:1 con {who}',
      'Lanzamiento de {project} 🚀', 'Revisión de contrato — {partner}', 'Planificación del año 📅', 'Formación: accesibilidad',
    ],
    series: ['Sincronización semanal del equipo', 'Reunión diaria', 'Estado semanal de {project}'],
    bodies: [
      'Hola a todos:\n\nOrden del día:\n1. Estado de {project} 📊\n2. Riesgos\n3. Próximos pasos\n\n¡Gracias!',
      'Repasamos las cifras antes del comité. Año, señal, pequeño — ñandú (n\u0303andu\u0301) 😊',
      'Bienvenidos a nuestros invitados de {partner}. مرحباً بكم 👋',
    ],
  },
  'fr-FR': {
    subjects: [
      'Revue de conception {project}', 'Point client : {partner}', 'Budget du trimestre', 'Entretien individuel avec {who}',
      'Lancement de {project} 🚀', 'Comité de pilotage — {partner}', 'Réunion d’équipe ☕', 'Atelier : accessibilité',
    ],
    series: ['Point hebdomadaire de l’équipe', 'Réunion quotidienne', 'Suivi hebdomadaire {project}'],
    bodies: [
      'Bonjour à tous,\n\nOrdre du jour :\n1. Avancement de {project} 📊\n2. Risques\n3. Prochaines étapes\n\nMerci !',
      'Nous accueillons nos partenaires de {partner}. Bienvenue — أهلاً وسهلاً — ברוכים הבאים 👋',
      'Les notes de la dernière séance sont dans le dossier partagé. Élodie présentera (E\u0301lodie, re\u0301sume\u0301).',
    ],
  },
  'it-IT': {
    subjects: [
      'Revisione del progetto {project}', 'Chiamata con {partner}', 'Budget trimestrale', 'Colloquio 1:1 con {who}',
      'Avvio di {project} 🚀', 'Rinnovo del contratto — {partner}', 'Pianificazione attività 📅',
    ],
    series: ['Riunione settimanale del team', 'Stand-up quotidiano', 'Stato settimanale di {project}'],
    bodies: [
      'Ciao a tutti,\n\nOrdine del giorno:\n1. Stato di {project} 📊\n2. Rischi\n3. Prossimi passi\n\nGrazie!',
      'Diamo il benvenuto ai colleghi di {partner}. Perché è così? Caffè alle 10 ☕ (perche\u0300, caffe\u0300)',
    ],
  },
  'de-DE': {
    subjects: [
      'Design-Review {project}', 'Kundentermin: {partner}', 'Budgetplanung Q-Abschluss', 'Einzelgespräch mit {who}',
      'Projektstart {project} 🚀', 'Vertragsverlängerung — {partner}', 'Übergabe Betrieb ⚙️', 'Schulung: Barrierefreiheit',
    ],
    series: ['Wöchentliches Team-Meeting', 'Tägliches Stand-up', 'Statusrunde {project}'],
    bodies: [
      'Hallo zusammen,\n\nTagesordnung:\n1. Stand {project} 📊\n2. Risiken\n3. Nächste Schritte\n\nDanke!',
      'Gäste von {partner} sind dabei. Größe, Straße, Übergröße — mit kombinierenden Zeichen: U\u0308bergro\u0308ße 👋',
      'Bitte vorab das Protokoll lesen. שלום — السلام عليكم — willkommen!',
    ],
  },
  'ja-JP': {
    subjects: [
      '{project} 設計レビュー', '{partner} 様との打ち合わせ', '四半期予算の確認', '{who} さんとの 1on1', '{project} キックオフ 🚀',
      '契約更新の相談（{partner}）', '採用面接の振り返り',
    ],
    series: ['週次定例会議', '朝会', '{project} 進捗確認'],
    bodies: [
      '皆さま\n\nお疲れさまです。議題は以下のとおりです。\n1. {project} の進捗 📊\n2. リスク\n3. 次のステップ\n\nよろしくお願いいたします。',
      '{partner} 様をお迎えします。資料は共有フォルダーにあります 📎 ようこそ — أهلاً',
    ],
  },
  'zh-CN': {
    subjects: [
      '{project} 设计评审', '与 {partner} 的客户会议', '季度预算回顾', '与{who}的一对一', '{project} 项目启动 🚀', '合同续签（{partner}）',
      '产品路线图评审',
    ],
    series: ['团队周会', '每日站会', '{project} 周进度'],
    bodies: [
      '大家好：\n\n会议议程：\n1. {project} 进展 📊\n2. 风险\n3. 下一步\n\n谢谢！',
      '欢迎 {partner} 的同事参加。资料已上传到共享文件夹 📎 ברוכים הבאים',
    ],
  },
};

/** The texts of a language (English for a language the demo has no texts for). */
export function contentFor(language: string): LanguageContent {
  return CONTENT[language] ?? (CONTENT['en-US'] as LanguageContent);
}

const PARTNER_NAMES: Readonly<Record<string, string>> = {
  'fabrikam.com': 'Fabrikam',
  'example.org': 'Example Foundation',
  'adventure-works.com': 'Adventure Works',
  'litwareinc.com': 'Litware',
  'tailspintoys.com': 'Tailspin Toys',
  'example.com': 'Example Corp',
};

/** The name of an external organization, for subjects: fabrikam.com -> Fabrikam. */
export function partnerName(domain: string): string {
  return PARTNER_NAMES[domain] ?? domain;
}

/** Fills `{name}` placeholders. */
export function fillText(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
