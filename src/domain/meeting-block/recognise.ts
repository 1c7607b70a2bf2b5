/**
 * What makes a delimited section a meeting block, shared by the text and HTML locators and the parser.
 * Blocks come from us (any supported language), from the Teams add-in and from the Skype add-in; the markers below are
 * what each of them always writes.
 */
import { ALL_LOCALES } from './locales.js';
import { leadingPhone } from './phone.js';

/** Lower-cased, whitespace-collapsed, NFC label without a trailing colon, for comparing labels across sources. */
export function normLabel(value: string): string {
  return value
    .normalize('NFC')
    .replace(/\s+/gu, ' ')
    .trim()
    .replace(/[\s:：|]+$/u, '')
    .toLowerCase();
}

const labels = (ours: (l: (typeof ALL_LOCALES)[number]) => string, extra: string[] = []): ReadonlySet<string> =>
  new Set([...ALL_LOCALES.map(ours), ...extra].map(normLabel));

export const JOIN_LABELS = new Set([...labels((l) => l.teamsJoinMeeting), ...labels((l) => l.joinMeeting, [
  'Click here to join the meeting',
  'Click to join the meeting',
  'Join Microsoft Teams Meeting',
  'Join Teams Meeting',
  'Join Skype Meeting',
  'Join the meeting now',
  'Join meeting',
])]);
export const LOCAL_NUMBER_LABELS = labels((l) => l.findLocalNumber, ['Local numbers', 'Find a local number']);
export const NOTES_LABELS = labels((l) => l.sharedNotes, ['Shared meeting notes']);
export const PROVIDER_LABELS = labels((l) => l.provider);
export const CONFERENCE_ID_LABELS = new Set([
  ...labels((l) => l.conferenceId, ['Phone Conference ID', 'Conference ID', 'Phone conference ID']),
  ...labels((l) => l.participantPasscode, ['Participant passcode', 'Participant code']),
]);

// Join links of Teams (work and consumer), Skype for Business Online and on-premises "simple URLs"
// (https://meet.contoso.com/user/ID or https://sfb.contoso.com/meet/user/ID).
const JOIN_URL_PATTERNS: readonly RegExp[] = [
  /https?:\/\/teams\.microsoft\.(?:com|us)\/l\/meetup-join\//i,
  /https?:\/\/teams\.microsoft\.(?:com|us)\/meet\/\d/i,
  /https?:\/\/teams\.live\.com\/meet\//i,
  /https?:\/\/meet\.lync\.com\//i,
  /https?:\/\/(?!meet\.google\.)meet\.[^\s/<>"]+\/[^\s<>"]+\/[^\s<>"]+/i,
  /https?:\/\/[^\s/<>"]+\/meet\/[^\s<>"]+/i,
];

/** True for links that join a Teams or Skype meeting (not help, download or options pages). */
export function isJoinUrl(url: string): boolean {
  return JOIN_URL_PATTERNS.some((re) => re.test(url));
}

// Headings the Teams add-in (and our Teams block) writes, in the languages we render and in English: they also tell
// a Teams block from a Skype one (meeting-type.ts).
export const TEAMS_HEADING_PATTERNS: readonly RegExp[] = [
  /\bMicrosoft Teams[ -]?(?:meeting|Besprechung)\b/i,
  /\b(?:réunion|riunione|reunión)(?: de| di)? Microsoft Teams\b/i,
  /Microsoft Teams ?(?:会議|会议)/,
  /\bJoin (?:Microsoft )?Teams Meeting\b/i,
];
// Headings the Teams and Skype add-ins write, in the languages we render and in English.
const HEADING_PATTERNS: readonly RegExp[] = [
  ...TEAMS_HEADING_PATTERNS,
  /\bJoin (?:Microsoft Teams|Teams|Skype) Meeting\b/i,
  /\bSkype[ -](?:meeting|Besprechung)\b/i,
  /\b(?:réunion|riunione|reunión)(?: de| di)? Skype\b/i,
  /Skype ?(?:会議|会议)/,
  /\[!OC\(\[\d+\]\)!\]/,
];
// Not the Teams block's join label ("Click here to join the meeting"): other providers' invitations say it too, and
// a Zoom or Webex section between delimiters is no block of ours (review of issue 12); the Teams heading is ours.
const OUR_HEADINGS = new Set(ALL_LOCALES.flatMap((l) => [normLabel(l.joinMeeting), normLabel(l.joinByPhone), normLabel(l.teamsHeading)]));

/** Percent-escapes upper-cased and entities decoded, so `%3a`/`%3A` and `&amp;`/`&` compare equal. */
function normUrl(value: string): string {
  return value.replace(/&amp;/gi, '&').replace(/%[0-9a-f]{2}/gi, (e) => e.toUpperCase());
}

/** Whether a section mentions a given join URL (tolerating percent-escape case and HTML `&amp;`). */
export function mentionsUrl(section: string, url: string | null | undefined): boolean {
  if (!url) return false;
  return section.includes(url) || normUrl(section).includes(normUrl(url));
}

/** Whether the text between two delimiter lines is an online-meeting block. */
export function isBlockContent(content: string, joinUrl?: string | null): boolean {
  if (mentionsUrl(content, joinUrl)) return true;
  if (HEADING_PATTERNS.some((re) => re.test(content))) return true;
  for (const m of content.matchAll(/https?:\/\/[^\s<>"]+/gi)) if (isJoinUrl(m[0])) return true;
  return content.split(/\r\n|\n|\r/).some((line) => {
    const label = normLabel(line.replace(/<[^<>]*>/g, ''));
    return OUR_HEADINGS.has(label);
  });
}

const FOOTER_PHRASES = new Set(
  [
    'Learn more',
    'Learn more about Teams',
    'Meeting options',
    'Reset PIN',
    'Reset dial-in PIN',
    'Find a local number',
    'Local numbers',
    'Need help?',
    'System reference',
    'For organizers',
    'Help',
    'Download Teams',
    'Join on the web',
    'Or call in (audio only)',
    'Privacy and security',
  ].map(normLabel),
);

/**
 * Whether a section after a block's closing delimiter is only the block's footer ("Learn More | Meeting options",
 * dial-in lines). Some Teams templates close the main part with a delimiter and put these after it, followed by one
 * more delimiter; the footer belongs to the block.
 */
export function isFooterContent(content: string): boolean {
  let sawSomething = false;
  for (const raw of content.split(/\r\n|\n|\r/)) {
    const line = raw.replace(/<[^<>]*>/g, ' ').trim();
    if (line === '') continue;
    const footer = line.split('|').every((part) => {
      const p = normLabel(part);
      return p === '' || FOOTER_PHRASES.has(p) || leadingPhone(part) !== null || /^[^:：]{1,40}[:：]\s*[\d\s]+#?$/u.test(p);
    });
    if (!footer) return false;
    sawSomething = true;
  }
  return sawSomething;
}
