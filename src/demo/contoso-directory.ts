// The Contoso demo organization as data: tenant, bridges and a cast of ~50 users, each in one of the states the
// migration rules tell apart. Everything is fictitious: 555-01xx numbers, contoso.com, Microsoft's sample names.

export const CONTOSO = {
  name: 'Contoso',
  domain: 'contoso.com',
  meetingUrl: 'https://meet.contoso.com',
  onPremisesMeetingUrl: 'https://meet.onprem.contoso.com',
} as const;

export const BRIDGES = {
  us: {
    name: 'Contoso US',
    tollNumbers: ['+12065550100 (Seattle) en-US', '+14255550100 (Redmond) en-US', '+12125550100 (New York) en-US es-US'],
    tollFreeNumbers: ['+18665550100 (United States) en-US'],
  },
  eu: {
    name: 'Contoso EU',
    tollNumbers: ['+33155550100 (Paris) fr-FR', '+493055550100 (Berlin) de-DE', '+34915550100 (Madrid) es-ES', '+390255550100 (Milan) it-IT'],
    tollFreeNumbers: ['+33805550100 (France) fr-FR'],
  },
  onPremises: {
    name: 'Contoso On-Premises',
    tollNumbers: ['+14255550199 (Redmond on-premises) en-US'],
    tollFreeNumbers: [] as string[],
  },
} as const;

/** The EU toll number a user of each language dials by default. */
export const EU_NUMBER: Readonly<Record<string, string>> = {
  'fr-FR': '+33155550100',
  'de-DE': '+493055550100',
  'es-ES': '+34915550100',
  'it-IT': '+390255550100',
};

/** The third-party audio-conferencing provider two users are still on. */
export const ACP = {
  name: 'Intercall',
  tollNumber: '+16465550100',
  tollFreeNumber: '+18775550100',
  url: 'https://www.intercall.example.com/local-numbers',
} as const;

/**
 * Where a user stands:
 * - `US` / `EU`: homed online, Audio Conferencing licence, built-in provider on that bridge;
 * - `OnPremLicensed`: still homed on-premises, licensed ahead of the move (as the setup guide recommends);
 * - `OnPrem`: still homed on-premises, no licence yet;
 * - `Unlicensed`: homed online without the licence (blocks without dial-in);
 * - `AcpReady`: licensed but still on the third-party provider ("ready to move");
 * - `Acp`: on the third-party provider, no licence;
 * - `MailboxOnPrem`: homed online and licensed, but the mailbox is on-premises (out of MMS's reach).
 */
export type DemoUserKind = 'US' | 'EU' | 'OnPremLicensed' | 'OnPrem' | 'Unlicensed' | 'AcpReady' | 'Acp' | 'MailboxOnPrem';

export interface DemoUser {
  /** UPN local part. */
  readonly alias: string;
  readonly displayName: string;
  readonly language: string;
  readonly timeZone: string;
  readonly kind: DemoUserKind;
  /** EU bridge for on-premises users licensed ahead (their meetings will dial in on the EU bridge once moved). */
  readonly eu?: boolean;
}

const LA = 'America/Los_Angeles';
const NY = 'America/New_York';

export const USERS: readonly DemoUser[] = [
  // en-US
  { alias: 'meganb', displayName: 'Megan Bowen', language: 'en-US', timeZone: LA, kind: 'US' },
  { alias: 'adelev', displayName: 'Adele Vance', language: 'en-US', timeZone: LA, kind: 'US' },
  { alias: 'alexw', displayName: 'Alex Wilber', language: 'en-US', timeZone: LA, kind: 'US' },
  { alias: 'lynner', displayName: 'Lynne Robbins', language: 'en-US', timeZone: NY, kind: 'US' },
  { alias: 'nestorw', displayName: 'Nestor Wilke', language: 'en-US', timeZone: LA, kind: 'US' },
  { alias: 'pattif', displayName: 'Patti Fernandez', language: 'en-US', timeZone: NY, kind: 'US' },
  { alias: 'isaiahl', displayName: 'Isaiah Langer', language: 'en-US', timeZone: LA, kind: 'US' },
  { alias: 'jonis', displayName: 'Joni Sherman', language: 'en-US', timeZone: NY, kind: 'US' },
  { alias: 'gradya', displayName: 'Grady Archie', language: 'en-US', timeZone: LA, kind: 'US' },
  { alias: 'debrab', displayName: 'Debra Berger', language: 'en-US', timeZone: NY, kind: 'US' },
  { alias: 'lidiah', displayName: 'Lidia Holloway', language: 'en-US', timeZone: LA, kind: 'OnPremLicensed' },
  { alias: 'leeg', displayName: 'Lee Gu', language: 'en-US', timeZone: LA, kind: 'OnPrem' },
  { alias: 'miriamg', displayName: 'Miriam Graham', language: 'en-US', timeZone: LA, kind: 'Unlicensed' },
  { alias: 'irvins', displayName: 'Irvin Sayers', language: 'en-US', timeZone: NY, kind: 'AcpReady' },
  { alias: 'henriettam', displayName: 'Henrietta Mueller', language: 'en-US', timeZone: NY, kind: 'Acp' },
  { alias: 'pradeepg', displayName: 'Pradeep Gupta', language: 'en-US', timeZone: LA, kind: 'MailboxOnPrem' },
  // es-ES
  { alias: 'carmen.garcia', displayName: 'Carmen García', language: 'es-ES', timeZone: 'Europe/Madrid', kind: 'EU' },
  { alias: 'javier.martin', displayName: 'Javier Martín', language: 'es-ES', timeZone: 'Europe/Madrid', kind: 'EU' },
  { alias: 'lucia.fernandez', displayName: 'Lucía Fernández', language: 'es-ES', timeZone: 'Europe/Madrid', kind: 'EU' },
  { alias: 'sofia.ruiz', displayName: 'Sofía Ruiz', language: 'es-ES', timeZone: 'Europe/Madrid', kind: 'EU' },
  { alias: 'alejandro.lopez', displayName: 'Alejandro López', language: 'es-ES', timeZone: 'Europe/Madrid', kind: 'OnPremLicensed', eu: true },
  { alias: 'pablo.nunez', displayName: 'Pablo Núñez', language: 'es-ES', timeZone: 'Europe/Madrid', kind: 'Unlicensed' },
  // fr-FR
  { alias: 'camille.dubois', displayName: 'Camille Dubois', language: 'fr-FR', timeZone: 'Europe/Paris', kind: 'EU' },
  { alias: 'francois.lefevre', displayName: 'François Lefèvre', language: 'fr-FR', timeZone: 'Europe/Paris', kind: 'EU' },
  { alias: 'chloe.moreau', displayName: 'Chloé Moreau', language: 'fr-FR', timeZone: 'Europe/Paris', kind: 'EU' },
  { alias: 'amelie.laurent', displayName: 'Amélie Laurent', language: 'fr-FR', timeZone: 'Europe/Paris', kind: 'EU' },
  { alias: 'julien.roux', displayName: 'Julien Roux', language: 'fr-FR', timeZone: 'Europe/Paris', kind: 'EU' },
  { alias: 'helene.girard', displayName: 'Hélène Girard', language: 'fr-FR', timeZone: 'Europe/Paris', kind: 'OnPremLicensed', eu: true },
  { alias: 'theo.bernard', displayName: 'Théo Bernard', language: 'fr-FR', timeZone: 'Europe/Paris', kind: 'OnPrem' },
  // it-IT
  { alias: 'giulia.rossi', displayName: 'Giulia Rossi', language: 'it-IT', timeZone: 'Europe/Rome', kind: 'EU' },
  { alias: 'marco.bianchi', displayName: 'Marco Bianchi', language: 'it-IT', timeZone: 'Europe/Rome', kind: 'EU' },
  { alias: 'francesca.ricci', displayName: 'Francesca Ricci', language: 'it-IT', timeZone: 'Europe/Rome', kind: 'EU' },
  { alias: 'luca.colombo', displayName: 'Luca Colombo', language: 'it-IT', timeZone: 'Europe/Rome', kind: 'Unlicensed' },
  { alias: 'niccolo.esposito', displayName: 'Niccolò Esposito', language: 'it-IT', timeZone: 'Europe/Rome', kind: 'OnPrem' },
  // de-DE
  { alias: 'johannal', displayName: 'Johanna Lorenz', language: 'de-DE', timeZone: 'Europe/Berlin', kind: 'EU' },
  { alias: 'lukas.schmidt', displayName: 'Lukas Schmidt', language: 'de-DE', timeZone: 'Europe/Berlin', kind: 'EU' },
  { alias: 'juergen.mueller', displayName: 'Jürgen Müller', language: 'de-DE', timeZone: 'Europe/Berlin', kind: 'EU' },
  { alias: 'anna.schaefer', displayName: 'Anna Schäfer', language: 'de-DE', timeZone: 'Europe/Berlin', kind: 'EU' },
  { alias: 'katharina.becker', displayName: 'Katharina Becker', language: 'de-DE', timeZone: 'Europe/Berlin', kind: 'EU' },
  { alias: 'stefan.hoffmann', displayName: 'Stefan Hoffmann', language: 'de-DE', timeZone: 'Europe/Berlin', kind: 'EU' },
  { alias: 'felix.weiss', displayName: 'Felix Weiß', language: 'de-DE', timeZone: 'Europe/Berlin', kind: 'OnPremLicensed', eu: true },
  // ja-JP (served by the US bridge: Contoso has no APAC bridge yet)
  { alias: 'taro.yamada', displayName: '山田 太郎', language: 'ja-JP', timeZone: 'Asia/Tokyo', kind: 'US' },
  { alias: 'hanako.sato', displayName: '佐藤 花子', language: 'ja-JP', timeZone: 'Asia/Tokyo', kind: 'US' },
  { alias: 'kenji.suzuki', displayName: '鈴木 健二', language: 'ja-JP', timeZone: 'Asia/Tokyo', kind: 'US' },
  { alias: 'haruto.ito', displayName: '伊藤 陽翔', language: 'ja-JP', timeZone: 'Asia/Tokyo', kind: 'US' },
  { alias: 'yuki.takahashi', displayName: '高橋 由紀', language: 'ja-JP', timeZone: 'Asia/Tokyo', kind: 'OnPremLicensed' },
  // zh-CN
  { alias: 'wei.zhang', displayName: '张伟', language: 'zh-CN', timeZone: 'Asia/Shanghai', kind: 'US' },
  { alias: 'fang.wang', displayName: '王芳', language: 'zh-CN', timeZone: 'Asia/Shanghai', kind: 'US' },
  { alias: 'jing.li', displayName: '李静', language: 'zh-CN', timeZone: 'Asia/Shanghai', kind: 'US' },
  { alias: 'min.liu', displayName: '刘敏', language: 'zh-CN', timeZone: 'Asia/Shanghai', kind: 'US' },
];

export const upnOf = (alias: string): string => `${alias}@${CONTOSO.domain}`;

/** The user the demo suggests moving online first: licensed ahead, with series and exceptions among their meetings. */
export const MOVE_CANDIDATE = 'lidiah';
/** Organizer of the 300-attendee all-hands. */
export const ALL_HANDS_ORGANIZER = 'meganb';
/** Organizer of a meeting with a pasted block (the other is lukas.schmidt's). */
export const PASTED_BLOCK_ORGANIZER = 'jonis';
