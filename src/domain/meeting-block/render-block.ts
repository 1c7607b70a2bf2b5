/**
 * Rendering the online meeting information block in the organizer's language, as plain text, as HTML and as
 * RFC 7986 CONFERENCE entries. Pure: the same input always gives the same output, byte for byte, which is what lets
 * a migration tell an up-to-date meeting from a stale one.
 */
import { invalid } from '../errors.js';
import type { MeetingType } from '../migration.js';
import { blockFingerprint } from './fingerprint.js';
import { escapeHtml } from './html.js';
import { BLOCK_ELEMENT_ID } from './locate-html.js';
import { fill, localeFor, resolveLanguage, type BlockLocale } from './locales.js';
import { E164, formatE164, regionNameOf, telUri } from './phone.js';

/** Dial-in details of the organizer's audio-conferencing bridge. */
export interface DialInInfo {
  provider: 'Microsoft' | 'ThirdParty';
  /** Name of the third-party audio-conferencing provider (ACP); ignored for Microsoft; no provider line when empty. */
  providerName: string | null;
  /**
   * E.164 number and its city/region label. The label is optional (empty): the block then names the number's
   * country in the block's language, or shows the number alone when it belongs to no country.
   */
  toll: { number: string; label: string } | null;
  tollFree: { number: string; label: string } | null;
  /** Conference ID, or the ACP participant passcode. */
  conferenceId: string;
  /** "Find a local number" page. */
  localNumbersUrl: string | null;
}

export interface BlockInput {
  /** BCP 47; `fr-CA` -> `fr` -> `en`. */
  language: string;
  /** The online meeting id; written into the HTML marker so a block can be tied to its meeting. */
  meetingId: string;
  joinUrl: string;
  /** null: a user without audio conferencing gets a block without dial-in numbers. */
  dialIn: DialInInfo | null;
  sharedNotesUrl?: string | null;
  /**
   * Which block (issue 12): `SfB` (the default) is the block MMS has always written, byte for byte; `Teams` opens
   * with the Teams heading and labels its link as the Teams add-in does, in the same language.
   */
  meetingType?: MeetingType;
}

/** An RFC 7986 CONFERENCE property: URI value, FEATURE and LABEL parameters. */
export interface ConferenceEntry {
  uri: string;
  features: string[];
  label: string;
}

export interface RenderedBlock {
  /** Plain-text block including its delimiter lines, `\n` line breaks, no leading/trailing newline. */
  text: string;
  /** One self-contained `<div>` with markers, no leading/trailing newline. */
  html: string;
  conferences: ConferenceEntry[];
  /** `blockFingerprint(text)`. */
  fingerprint: string;
}

/** The delimiter line Outlook writes around a Teams block (80 underscores). */
export const DELIMITER = '_'.repeat(80);
const BEGIN_MARK = `<!-- ${BLOCK_ELEMENT_ID}:begin -->`;
const END_MARK = `<!-- ${BLOCK_ELEMENT_ID}:end -->`;

// C0/C1 controls and line/paragraph separators would break the one-value-per-line layout that parseBlock relies on.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

function checkUrl(field: string, value: string): void {
  let ok = !/[\s<>"\u0000-\u001f\u007f]/u.test(value) && /^https?:\/\//i.test(value);
  if (ok) {
    try {
      new URL(value);
    } catch {
      ok = false;
    }
  }
  if (!ok) throw invalid(`${field} "${value}" is not an absolute http(s) URL without spaces; give the full link, e.g. https://meet.contoso.com/ashaw/K7X2NQ4T.`);
}

function checkText(field: string, value: string): void {
  if (value.trim() === '' || CONTROL.test(value)) {
    throw invalid(`${field} ${JSON.stringify(value)} must be non-empty text on one line; remove line breaks and control characters.`);
  }
}

/** Optional text (labels, provider name) may be empty, but never span lines. */
function checkOptionalText(field: string, value: string): void {
  if (CONTROL.test(value)) throw invalid(`${field} ${JSON.stringify(value)} must be text on one line; remove line breaks and control characters.`);
}

function validate(input: BlockInput): void {
  checkText('meetingId', input.meetingId);
  if (input.meetingType !== undefined && input.meetingType !== 'SfB' && input.meetingType !== 'Teams') {
    throw invalid(`meetingType "${String(input.meetingType)}" is not known; use SfB or Teams.`);
  }
  checkUrl('joinUrl', input.joinUrl);
  if (input.sharedNotesUrl) checkUrl('sharedNotesUrl', input.sharedNotesUrl);
  const d = input.dialIn;
  if (d === null) return;
  if (d.provider !== 'Microsoft' && d.provider !== 'ThirdParty') {
    throw invalid(`dialIn.provider "${String(d.provider)}" is not known; use Microsoft or ThirdParty.`);
  }
  checkOptionalText('dialIn.providerName', d.providerName ?? '');
  for (const [field, n] of [['toll', d.toll], ['tollFree', d.tollFree]] as const) {
    if (n === null) continue;
    if (!E164.test(n.number)) {
      throw invalid(`dialIn.${field}.number "${n.number}" is not an E.164 number; write + country code and 7-15 digits, e.g. +14255550100.`);
    }
    checkOptionalText(`dialIn.${field}.label`, n.label);
  }
  if (!/^\d{1,32}$/.test(d.conferenceId)) {
    throw invalid(`dialIn.conferenceId "${d.conferenceId}" must be 1-32 digits (it is dialled after the number); remove spaces and '#'.`);
  }
  if (d.localNumbersUrl) checkUrl('dialIn.localNumbersUrl', d.localNumbersUrl);
}

/** Directory text as shown: surrounding blanks dropped and runs of spaces collapsed, as an HTML reader sees it anyway. */
const tidy = (value: string): string => value.trim().replace(/ {2,}/g, ' ');

interface PhoneLine {
  number: string;
  /** Empty when neither the directory nor the number names a place. */
  label: string;
  kind: string;
}

/** The directory's label, else the number's country in the block's language, else none. */
const labelOf = (n: { number: string; label: string }, loc: BlockLocale): string => tidy(n.label) || (regionNameOf(n.number, loc.tag) ?? '');

function phoneLines(d: DialInInfo, loc: BlockLocale): PhoneLine[] {
  const out: PhoneLine[] = [];
  if (d.toll) out.push({ number: d.toll.number, label: labelOf(d.toll, loc), kind: loc.toll });
  if (d.tollFree) out.push({ number: d.tollFree.number, label: labelOf(d.tollFree, loc), kind: loc.tollFree });
  return out;
}

const numberLine = (p: PhoneLine, loc: BlockLocale): string => (p.label ? loc.numberLine : loc.numberLineUnlabelled);
const phoneLabel = (p: PhoneLine, loc: BlockLocale): string => fill(p.label ? loc.phoneLabel : loc.phoneLabelUnlabelled, { label: p.label, kind: p.kind });
const providerName = (d: DialInInfo): string => (d.provider === 'ThirdParty' ? tidy(d.providerName ?? '') : '');

const isTeams = (input: BlockInput): boolean => input.meetingType === 'Teams';
/** The join link's label: the Teams add-in's wording in a Teams block. */
const joinLabel = (input: BlockInput, loc: BlockLocale): string => (isTeams(input) ? loc.teamsJoinMeeting : loc.joinMeeting);

function renderText(input: BlockInput, loc: BlockLocale): string {
  const lines = isTeams(input) ? [DELIMITER, loc.teamsHeading, joinLabel(input, loc), input.joinUrl] : [DELIMITER, loc.joinMeeting, input.joinUrl];
  const d = input.dialIn;
  if (d) {
    lines.push('', loc.joinByPhone);
    if (providerName(d)) lines.push(loc.provider + loc.colon + providerName(d));
    for (const p of phoneLines(d, loc)) {
      lines.push(fill(numberLine(p, loc), { number: formatE164(p.number), label: p.label, kind: p.kind }));
    }
    const idLabel = d.provider === 'ThirdParty' ? loc.participantPasscode : loc.conferenceId;
    lines.push(idLabel + loc.colon + d.conferenceId);
    if (d.localNumbersUrl) lines.push(loc.findLocalNumber + loc.colon + d.localNumbersUrl);
  }
  if (input.sharedNotesUrl) lines.push('', loc.sharedNotes + loc.colon + input.sharedNotesUrl);
  lines.push(DELIMITER);
  return lines.join('\n');
}

const link = (href: string, text: string): string => `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;

function renderHtml(input: BlockInput, loc: BlockLocale): string {
  const e = escapeHtml;
  const rule = `<div style="white-space:nowrap;color:#5F5F5F;">${DELIMITER}</div>`;
  const parts = [
    `<div id="${BLOCK_ELEMENT_ID}" data-mms-meeting-id="${e(input.meetingId)}"${isTeams(input) ? ' data-mms-meeting-type="Teams"' : ''} lang="${loc.tag}" ` +
      `style="font-family:'Segoe UI',Helvetica,Arial,sans-serif;color:#252424;">${BEGIN_MARK}`,
    rule,
  ];
  if (isTeams(input)) parts.push(`<div style="font-size:18pt;font-weight:600;margin:8px 0 0;">${e(loc.teamsHeading)}</div>`);
  parts.push(`<div style="font-size:14pt;margin:8px 0;">${link(input.joinUrl, joinLabel(input, loc))}</div>`);
  const d = input.dialIn;
  if (d) {
    parts.push(`<div style="margin-top:12px;font-weight:600;">${e(loc.joinByPhone)}</div>`);
    if (providerName(d)) parts.push(`<div>${e(loc.provider + loc.colon + providerName(d))}</div>`);
    for (const p of phoneLines(d, loc)) {
      const number = link(telUri(p.number, d.conferenceId), formatE164(p.number));
      parts.push(`<div>${fill(numberLine(p, loc), { number, label: e(p.label), kind: e(p.kind) })}</div>`);
    }
    const idLabel = d.provider === 'ThirdParty' ? loc.participantPasscode : loc.conferenceId;
    parts.push(`<div>${e(idLabel + loc.colon + d.conferenceId)}</div>`);
    if (d.localNumbersUrl) parts.push(`<div>${link(d.localNumbersUrl, loc.findLocalNumber)}</div>`);
  }
  if (input.sharedNotesUrl) parts.push(`<div style="margin-top:12px;">${link(input.sharedNotesUrl, loc.sharedNotes)}</div>`);
  parts.push(rule, `${END_MARK}</div>`);
  return parts.join('\n');
}

function renderConferences(input: BlockInput, loc: BlockLocale): ConferenceEntry[] {
  const out: ConferenceEntry[] = [{ uri: input.joinUrl, features: ['AUDIO', 'VIDEO'], label: joinLabel(input, loc) }];
  const d = input.dialIn;
  if (d) {
    for (const p of phoneLines(d, loc)) {
      out.push({ uri: telUri(p.number, d.conferenceId), features: ['PHONE'], label: phoneLabel(p, loc) });
    }
  }
  return out;
}

/**
 * Renders the block for one meeting. Optional text may be empty (a number without a label, a provider without a
 * name). Throws `MmsError('Invalid')` naming the bad field when a number is not E.164, a URL is not absolute
 * http(s), the conference id is not digits, or a label spans lines.
 */
export function renderBlock(input: BlockInput): RenderedBlock {
  validate(input);
  const loc = localeFor(resolveLanguage(input.language));
  const text = renderText(input, loc);
  return {
    text,
    html: renderHtml(input, loc),
    conferences: renderConferences(input, loc),
    fingerprint: blockFingerprint(text),
  };
}
