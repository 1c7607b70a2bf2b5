import { editEvents, utcDateTime } from '../ical/index.js';
import {
  blockFingerprint, locateHtmlBlock, locateTextBlock, parseBlock, replaceHtmlBlock, replaceTextBlock, type RenderedBlock,
} from '../domain/meeting-block/index.js';
import { FINGERPRINT_PROPERTY } from '../domain/online-meeting.js';

/** The Exchange property that carries the join link; MMS keeps it in step with the block. */
const JOIN_URL_PROPERTY = 'X-MICROSOFT-SKYPETEAMSMEETINGURL';

/** What one component (master or exception) held before a rewrite: what undo puts back. */
export interface PreviousComponent {
  readonly recurrenceId: string | null;
  readonly text: string | null;
  readonly html: string | null;
  readonly location: string | null;
  readonly conferences: ReadonlyArray<{ params: Record<string, string>; value: string }>;
  readonly fingerprint: string | null;
  readonly joinUrl: string | null;
}

export type PreviousBlock = readonly PreviousComponent[];

/** The new block for one meeting; `render` gets the shared-notes link of the old block so it is carried over. */
export type BlockRenderer = (sharedNotesUrl: string | null) => RenderedBlock & { joinUrl: string };

export type RewriteOutcome =
  | { readonly kind: 'UpToDate' }
  | { readonly kind: 'NoBlock' }
  | { readonly kind: 'Rewritten'; readonly ics: string; readonly previous: PreviousBlock; readonly edited: boolean; readonly oldBlock: string; readonly newBlock: string };

function conferenceParams(c: { features: string[]; label: string }): Record<string, string> {
  return { VALUE: 'URI', FEATURE: c.features.join(','), LABEL: c.label };
}

const digits = (s: string): string => s.replace(/\D/g, '');

/**
 * Replaces only the online meeting information block of every VEVENT of a calendar object: the block inside
 * DESCRIPTION and X-ALT-DESC, the CONFERENCE properties that pointed at the old join link or dial-in numbers,
 * the old join link inside LOCATION, and the block metadata. Every other byte stays. A shared-notes link in the
 * old block is carried into the new one. `edited` tells whether the text inside the old block differs from what
 * MMS (or the add-in) last wrote, by its fingerprint. With `now`, each component that changes gets DTSTAMP and
 * LAST-MODIFIED set to it: a stored object without METHOD says in DTSTAMP when it was last changed
 * (RFC 5545 §3.8.7.2–3.8.7.3), and clients order copies and updates by it.
 */
export function rewriteMeeting(ics: string, render: BlockRenderer, now?: number): RewriteOutcome {
  const stamp = now === undefined ? null : utcDateTime(now);
  let rendered: (RenderedBlock & { joinUrl: string }) | null = null;
  const previous: PreviousComponent[] = [];
  let edited = false;
  let changed = false;
  let masterOld = '';
  let found = false;

  const out = editEvents(ics, (e) => {
    const description = e.get('DESCRIPTION');
    const range = description === null ? null : locateTextBlock(description, e.get(JOIN_URL_PROPERTY));
    if (description === null || !range) return;
    found = true;
    const oldText = description.slice(range.start, range.end);
    const said = parseBlock(oldText);
    const joinUrl = e.get(JOIN_URL_PROPERTY) ?? said.joinUrl;
    if (!rendered) rendered = render(said.sharedNotesUrl);
    const fresh = rendered;
    if (e.recurrenceId === null || !masterOld) masterOld = oldText;
    const fingerprint = e.get(FINGERPRINT_PROPERTY);
    if (fingerprint !== null && fingerprint !== blockFingerprint(oldText)) edited = true;
    const html = e.get('X-ALT-DESC');
    const htmlRange = html === null ? null : locateHtmlBlock(html, joinUrl);
    const conferences = e.getAll('CONFERENCE');
    const upToDate =
      oldText === fresh.text &&
      (!htmlRange || html!.slice(htmlRange.start, htmlRange.end) === fresh.html) &&
      fresh.conferences.every((c) => conferences.some((x) => x.value === c.uri)) &&
      (fingerprint === null || fingerprint === fresh.fingerprint);
    if (upToDate) return;
    changed = true;

    const location = e.get('LOCATION');
    previous.push({ recurrenceId: e.recurrenceId, text: oldText, html: htmlRange ? html!.slice(htmlRange.start, htmlRange.end) : null, location, conferences, fingerprint, joinUrl });

    e.set('DESCRIPTION', replaceTextBlock(description, fresh.text, joinUrl) as string);
    if (html !== null && htmlRange) e.set('X-ALT-DESC', replaceHtmlBlock(html, fresh.html, joinUrl) as string);
    // Only the CONFERENCE entries of the old block go: its join link, and tel: links to its numbers.
    const oldNumbers = new Set(said.numbers.map(digits));
    e.remove('CONFERENCE', (c) => c.value === joinUrl || (c.value.startsWith('tel:') && oldNumbers.has(digits(c.value.slice(4).split(/[,;]/)[0] ?? ''))));
    for (const c of fresh.conferences) e.add('CONFERENCE', c.uri, conferenceParams(c));
    if (location !== null && joinUrl && location.includes(joinUrl)) e.set('LOCATION', location.split(joinUrl).join(fresh.joinUrl));
    if (fingerprint !== null || e.recurrenceId === null) e.set(FINGERPRINT_PROPERTY, fresh.fingerprint);
    if (e.get(JOIN_URL_PROPERTY) !== null) e.set(JOIN_URL_PROPERTY, fresh.joinUrl);
    if (stamp !== null) {
      e.set('DTSTAMP', stamp);
      e.set('LAST-MODIFIED', stamp);
    }
  });
  if (!found) return { kind: 'NoBlock' };
  if (!changed) return { kind: 'UpToDate' };
  const r = rendered as unknown as RenderedBlock;
  return { kind: 'Rewritten', ics: out, previous, edited, oldBlock: masterOld, newBlock: r.text };
}

/**
 * Puts back what a rewrite replaced (undo): the old block text and HTML, CONFERENCE entries, LOCATION and
 * metadata of each component, found by RECURRENCE-ID. Components the rewrite did not change are left alone.
 */
export function restoreMeeting(ics: string, previous: PreviousBlock): string {
  return editEvents(ics, (e) => {
    const old = previous.find((p) => p.recurrenceId === e.recurrenceId);
    if (!old || old.text === null) return;
    const description = e.get('DESCRIPTION');
    const joinUrl = e.get(JOIN_URL_PROPERTY);
    if (description !== null) {
      const back = replaceTextBlock(description, old.text, joinUrl);
      if (back !== null) e.set('DESCRIPTION', back);
    }
    const html = e.get('X-ALT-DESC');
    if (html !== null && old.html !== null) {
      const back = replaceHtmlBlock(html, old.html, joinUrl);
      if (back !== null) e.set('X-ALT-DESC', back);
    }
    e.remove('CONFERENCE');
    for (const c of old.conferences) e.add('CONFERENCE', c.value, c.params);
    if (old.location !== null) e.set('LOCATION', old.location);
    if (old.fingerprint !== null) e.set(FINGERPRINT_PROPERTY, old.fingerprint);
    else e.remove(FINGERPRINT_PROPERTY);
    if (old.joinUrl !== null && joinUrl !== null) e.set(JOIN_URL_PROPERTY, old.joinUrl);
  });
}

/** Whether any VEVENT of an object carries an online meeting block in its DESCRIPTION (read only). */
export function hasOnlineMeetingBlock(ics: string): boolean {
  let found = false;
  editEvents(ics, (e) => {
    const d = e.get('DESCRIPTION');
    if (!found && d !== null && locateTextBlock(d) !== null) found = true;
  });
  return found;
}
