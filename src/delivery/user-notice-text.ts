// What the emails to users about their own dial-in settings say (issue 12 §3), in every language the online
// meeting block speaks (domain/meeting-block/locales.ts: en, es, fr, it, de, ja, zh-Hans); any other language
// gets English, as the block does (resolveLanguage). The field labels (Conference ID, Toll, Toll-free) are the
// block's own, so the email and the invitations name things alike.

/** Why a user is emailed. */
export const USER_NOTICE_KINDS = ['DialInAssigned', 'DialInChanged', 'LeaderPinReset', 'DialInRemoved', 'ConferenceInfo'] as const;
export type UserNoticeKind = (typeof USER_NOTICE_KINDS)[number];

export interface NoticeText {
  readonly subject: Record<UserNoticeKind, string>;
  /** The first paragraph: what happened. */
  readonly intro: Record<UserNoticeKind, string>;
  readonly greeting: string; // {name}
  readonly leaderPin: string;
  /** Under the PIN: keep it to yourself. */
  readonly pinNote: string;
  readonly closing: string;
}

export const NOTICE_TEXT: Record<'en' | 'es' | 'fr' | 'it' | 'de' | 'ja' | 'zh-Hans', NoticeText> = {
  en: {
    subject: {
      DialInAssigned: 'Your audio conferencing details',
      DialInChanged: 'Your audio conferencing details have changed',
      LeaderPinReset: 'Your new meeting leader PIN',
      DialInRemoved: 'Audio conferencing is no longer available in your meetings',
      ConferenceInfo: 'Your audio conferencing details',
    },
    intro: {
      DialInAssigned: 'You can now host meetings people join by phone. These are the dial-in details of your meetings.',
      DialInChanged: 'The dial-in details of your meetings have changed. Your meetings are updated with the new details.',
      LeaderPinReset: 'Your meeting leader PIN was reset. Use the new PIN to start your meetings by phone.',
      DialInRemoved: 'Dial-in audio conferencing was removed from your account: your meetings no longer have dial-in numbers or a conference ID.',
      ConferenceInfo: 'These are the dial-in details of your meetings.',
    },
    greeting: 'Hello {name},',
    leaderPin: 'Leader PIN',
    pinNote: 'Keep your PIN to yourself: it lets you start your meetings by phone. Nobody from your organization will ask you for it.',
    closing: 'This message was sent by the Meeting Migration Service on behalf of your administrator.',
  },
  es: {
    subject: {
      DialInAssigned: 'Sus datos de audioconferencia',
      DialInChanged: 'Sus datos de audioconferencia han cambiado',
      LeaderPinReset: 'Su nuevo PIN de moderador',
      DialInRemoved: 'La audioconferencia ya no está disponible en sus reuniones',
      ConferenceInfo: 'Sus datos de audioconferencia',
    },
    intro: {
      DialInAssigned: 'Ya puede organizar reuniones a las que se une por teléfono. Estos son los datos de acceso telefónico de sus reuniones.',
      DialInChanged: 'Los datos de acceso telefónico de sus reuniones han cambiado. Sus reuniones se actualizan con los nuevos datos.',
      LeaderPinReset: 'Se ha restablecido su PIN de moderador. Use el nuevo PIN para iniciar sus reuniones por teléfono.',
      DialInRemoved: 'Se ha quitado la audioconferencia de su cuenta: sus reuniones ya no tienen números de acceso telefónico ni id. de conferencia.',
      ConferenceInfo: 'Estos son los datos de acceso telefónico de sus reuniones.',
    },
    greeting: 'Hola, {name}:',
    leaderPin: 'PIN de moderador',
    pinNote: 'No comparta su PIN: le permite iniciar sus reuniones por teléfono. Nadie de su organización se lo pedirá.',
    closing: 'Este mensaje lo envía el servicio de migración de reuniones en nombre de su administrador.',
  },
  fr: {
    subject: {
      DialInAssigned: 'Vos informations d’audioconférence',
      DialInChanged: 'Vos informations d’audioconférence ont changé',
      LeaderPinReset: 'Votre nouveau code PIN d’organisateur',
      DialInRemoved: 'L’audioconférence n’est plus disponible dans vos réunions',
      ConferenceInfo: 'Vos informations d’audioconférence',
    },
    intro: {
      DialInAssigned: 'Vous pouvez désormais organiser des réunions que l’on rejoint par téléphone. Voici les informations d’appel de vos réunions.',
      DialInChanged: 'Les informations d’appel de vos réunions ont changé. Vos réunions sont mises à jour avec les nouvelles informations.',
      LeaderPinReset: 'Votre code PIN d’organisateur a été réinitialisé. Utilisez le nouveau code pour démarrer vos réunions par téléphone.',
      DialInRemoved: 'L’audioconférence a été retirée de votre compte\u00a0: vos réunions n’ont plus de numéros d’appel ni d’ID de conférence.',
      ConferenceInfo: 'Voici les informations d’appel de vos réunions.',
    },
    greeting: 'Bonjour {name},',
    leaderPin: 'Code PIN d’organisateur',
    pinNote: 'Gardez ce code pour vous\u00a0: il permet de démarrer vos réunions par téléphone. Personne de votre organisation ne vous le demandera.',
    closing: 'Ce message est envoyé par le service de migration des réunions pour le compte de votre administrateur.',
  },
  it: {
    subject: {
      DialInAssigned: 'I tuoi dati di audioconferenza',
      DialInChanged: 'I tuoi dati di audioconferenza sono cambiati',
      LeaderPinReset: 'Il tuo nuovo PIN organizzatore',
      DialInRemoved: 'L’audioconferenza non è più disponibile nelle tue riunioni',
      ConferenceInfo: 'I tuoi dati di audioconferenza',
    },
    intro: {
      DialInAssigned: 'Ora puoi organizzare riunioni a cui si partecipa per telefono. Questi sono i dati di accesso telefonico delle tue riunioni.',
      DialInChanged: 'I dati di accesso telefonico delle tue riunioni sono cambiati. Le riunioni vengono aggiornate con i nuovi dati.',
      LeaderPinReset: 'Il PIN organizzatore è stato reimpostato. Usa il nuovo PIN per avviare le riunioni per telefono.',
      DialInRemoved: 'L’audioconferenza è stata rimossa dal tuo account: le tue riunioni non hanno più numeri di accesso telefonico né ID conferenza.',
      ConferenceInfo: 'Questi sono i dati di accesso telefonico delle tue riunioni.',
    },
    greeting: 'Ciao {name},',
    leaderPin: 'PIN organizzatore',
    pinNote: 'Non condividere il PIN: permette di avviare le riunioni per telefono. Nessuno della tua organizzazione te lo chiederà.',
    closing: 'Questo messaggio è inviato dal servizio di migrazione delle riunioni per conto dell’amministratore.',
  },
  de: {
    subject: {
      DialInAssigned: 'Ihre Einwahldaten für Audiokonferenzen',
      DialInChanged: 'Ihre Einwahldaten für Audiokonferenzen haben sich geändert',
      LeaderPinReset: 'Ihre neue Organisator-PIN',
      DialInRemoved: 'Audiokonferenzen sind in Ihren Besprechungen nicht mehr verfügbar',
      ConferenceInfo: 'Ihre Einwahldaten für Audiokonferenzen',
    },
    intro: {
      DialInAssigned: 'Sie können jetzt Besprechungen leiten, an denen man per Telefon teilnimmt. Dies sind die Einwahldaten Ihrer Besprechungen.',
      DialInChanged: 'Die Einwahldaten Ihrer Besprechungen haben sich geändert. Ihre Besprechungen werden mit den neuen Daten aktualisiert.',
      LeaderPinReset: 'Ihre Organisator-PIN wurde zurückgesetzt. Starten Sie Ihre Besprechungen per Telefon mit der neuen PIN.',
      DialInRemoved: 'Audiokonferenzen wurden aus Ihrem Konto entfernt: Ihre Besprechungen haben keine Einwahlnummern und keine Konferenz-ID mehr.',
      ConferenceInfo: 'Dies sind die Einwahldaten Ihrer Besprechungen.',
    },
    greeting: 'Hallo {name},',
    leaderPin: 'Organisator-PIN',
    pinNote: 'Geben Sie Ihre PIN nicht weiter: Mit ihr starten Sie Ihre Besprechungen per Telefon. Niemand aus Ihrer Organisation wird Sie danach fragen.',
    closing: 'Diese Nachricht sendet der Besprechungsmigrationsdienst im Auftrag Ihres Administrators.',
  },
  ja: {
    subject: {
      DialInAssigned: '電話会議の情報',
      DialInChanged: '電話会議の情報が変更されました',
      LeaderPinReset: '新しい開催者 PIN',
      DialInRemoved: '会議で電話会議を利用できなくなりました',
      ConferenceInfo: '電話会議の情報',
    },
    intro: {
      DialInAssigned: '電話で参加できる会議を開催できるようになりました。会議のダイヤルイン情報は次のとおりです。',
      DialInChanged: '会議のダイヤルイン情報が変更されました。会議は新しい情報で更新されます。',
      LeaderPinReset: '開催者 PIN がリセットされました。電話で会議を開始するときは新しい PIN を使用してください。',
      DialInRemoved: 'アカウントから電話会議が削除されました。会議にはダイヤルイン番号と会議 ID がなくなります。',
      ConferenceInfo: '会議のダイヤルイン情報は次のとおりです。',
    },
    greeting: '{name} さん',
    leaderPin: '開催者 PIN',
    pinNote: 'PIN は他人に教えないでください。電話で会議を開始するために使用します。組織の担当者が PIN を尋ねることはありません。',
    closing: 'このメッセージは、管理者に代わって会議移行サービスから送信されました。',
  },
  'zh-Hans': {
    subject: {
      DialInAssigned: '您的音频会议信息',
      DialInChanged: '您的音频会议信息已更改',
      LeaderPinReset: '您的新组织者 PIN',
      DialInRemoved: '您的会议不再提供音频会议',
      ConferenceInfo: '您的音频会议信息',
    },
    intro: {
      DialInAssigned: '您现在可以主持可通过电话加入的会议。以下是您会议的拨入信息。',
      DialInChanged: '您会议的拨入信息已更改。您的会议将使用新信息更新。',
      LeaderPinReset: '您的组织者 PIN 已重置。请使用新 PIN 通过电话开始会议。',
      DialInRemoved: '已从您的帐户中删除音频会议：您的会议不再有拨入号码和会议 ID。',
      ConferenceInfo: '以下是您会议的拨入信息。',
    },
    greeting: '{name}，您好：',
    leaderPin: '组织者 PIN',
    pinNote: '请勿向他人透露您的 PIN：它用于通过电话开始会议。您组织中的任何人都不会向您索要它。',
    closing: '此邮件由会议迁移服务代表您的管理员发送。',
  },
};
