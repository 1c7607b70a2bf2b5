/**
 * Reading a block back: what it joins, which numbers it lists, its conference id. Works on our blocks (text or HTML,
 * any supported language) and on Teams/Skype blocks, so a migration can report what it replaced and the preview can
 * show old and new details side by side.
 */
import { htmlToText, looksLikeHtml } from './html.js';
import { ALL_LOCALES, type BlockLocale } from './locales.js';
import { leadingPhone, parseTelUri, phonesIn } from './phone.js';
import {
  CONFERENCE_ID_LABELS,
  isJoinUrl,
  JOIN_LABELS,
  LOCAL_NUMBER_LABELS,
  normLabel,
  NOTES_LABELS,
  PROVIDER_LABELS,
} from './recognise.js';

export interface ParsedBlock {
  joinUrl: string | null;
  /** Every dial-in number seen, in order, without duplicates: `+digits` when written with a country code. */
  numbers: string[];
  /** Conference ID or participant passcode, digits only. */
  conferenceId: string | null;
  sharedNotesUrl: string | null;
  localNumbersUrl: string | null;
  /** Third-party audio-conferencing provider named in one of our blocks. */
  providerName: string | null;
  /** Supported language whose labels the block uses, or null if none match. */
  language: string | null;
}

// `label<url>` as Outlook writes links in text, or a bare URL.
const URL_IN_LINE = /<((?:https?|tel|mailto):[^<>\s]*)>|((?:https?:\/\/|tel:)[^\s<>"]+)/gi;
const ID_LIKE_LABEL = /\bid\b|\bpin\b|pass ?code|passwor|\bcode\b|código|codice|kennung|パスコード|密码/iu;

const LANGUAGE_KEYS = [
  'joinMeeting',
  'joinByPhone',
  'conferenceId',
  'participantPasscode',
  'findLocalNumber',
  'sharedNotes',
  'provider',
  'teamsHeading',
  'teamsJoinMeeting',
] as const satisfies ReadonlyArray<keyof BlockLocale>;

/** Normalised label → the languages that use it; built once, as parseBlock runs on every migrated meeting. */
const LABEL_LANGUAGES: ReadonlyMap<string, readonly string[]> = (() => {
  const map = new Map<string, string[]>();
  for (const loc of ALL_LOCALES) {
    for (const k of LANGUAGE_KEYS) {
      const label = normLabel(loc[k]);
      const tags = map.get(label) ?? [];
      if (!tags.includes(loc.tag)) tags.push(loc.tag);
      map.set(label, tags);
    }
  }
  return map;
})();

/**
 * What a block says. Pass the block itself (e.g. the located range of a description), plain text or HTML; text
 * outside a block would be read as well.
 */
export function parseBlock(text: string): ParsedBlock {
  const plain = looksLikeHtml(text) ? htmlToText(text) : text;
  const numbers: string[] = [];
  const addNumber = (n: string): void => {
    if (!numbers.includes(n)) numbers.push(n);
  };
  let joinByLabel: string | null = null;
  let joinByPattern: string | null = null;
  let localByLabel: string | null = null;
  let localByHost: string | null = null;
  let sharedNotesUrl: string | null = null;
  let conferenceId: string | null = null;
  let telConferenceId: string | null = null;
  let providerName: string | null = null;
  const scores = new Map<string, number>();
  const score = (label: string): void => {
    if (label === '') return;
    for (const tag of LABEL_LANGUAGES.get(label) ?? []) scores.set(tag, (scores.get(tag) ?? 0) + 1);
  };

  let previousLabel = '';
  for (const raw of plain.split(/\r\n|\n|\r|\u2028|\u2029/)) {
    const line = raw.trim();
    if (line === '') continue;

    const links: Array<{ label: string; url: string }> = [];
    let rest = '';
    let cursor = 0;
    for (const m of line.matchAll(URL_IN_LINE)) {
      const before = line.slice(cursor, m.index);
      rest += `${before} `;
      links.push({ label: before.split('|').pop() ?? '', url: m[1] ?? m[2] ?? '' });
      cursor = m.index + m[0].length;
    }
    rest = (rest + line.slice(cursor)).trim();
    // A URL alone on its line is labelled by the line above ("Join online meeting" / URL).
    const alone = links.length === 1 && rest === '';

    for (const { label: rawLabel, url } of links) {
      const label = normLabel(alone ? previousLabel : rawLabel);
      score(label);
      if (/^tel:/i.test(url)) {
        const tel = parseTelUri(url);
        if (tel.number !== null) addNumber(tel.number);
        telConferenceId ??= tel.conferenceId;
      } else if (JOIN_LABELS.has(label)) joinByLabel ??= url;
      else if (LOCAL_NUMBER_LABELS.has(label)) localByLabel ??= url;
      else if (NOTES_LABELS.has(label)) sharedNotesUrl ??= url;
      else if (isJoinUrl(url)) joinByPattern ??= url;
      else if (/^https?:\/\/dialin\./i.test(url) && !/\bpin\b/i.test(label)) localByHost ??= url;
    }

    const lead = leadingPhone(rest);
    if (lead !== null) {
      addNumber(lead);
    } else {
      const colon = /^(.+?)\s*[:：]\s*(.*)$/u.exec(rest);
      const label = normLabel(colon?.[1] ?? '');
      const value = colon?.[2] ?? '';
      score(label);
      score(normLabel(rest));
      if (colon && CONFERENCE_ID_LABELS.has(label)) {
        const id = /^([\d\s]+?)\s*#?$/u.exec(value);
        if (id?.[1] !== undefined) conferenceId ??= id[1].replace(/\D/g, '');
      } else if (colon && PROVIDER_LABELS.has(label)) {
        providerName ??= value.trim();
      } else if (!(colon && ID_LIKE_LABEL.test(label))) {
        for (const n of phonesIn(rest)) addNumber(n);
      }
    }
    previousLabel = links.length === 0 ? rest : '';
  }

  let language: string | null = null;
  let best = 0;
  for (const [tag, n] of scores) {
    if (n > best) [language, best] = [tag, n];
  }
  return {
    joinUrl: joinByLabel ?? joinByPattern,
    numbers,
    conferenceId: conferenceId ?? telConferenceId,
    sharedNotesUrl,
    localNumbersUrl: localByLabel ?? localByHost,
    providerName,
    language,
  };
}
