import { editEvents, newEditMemo, utcDateTime, type EditMemo, type EventEditor } from '../ical/index.js';
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

/** What one component's rewrite decided: nothing to do (no block), already current, or the edits to make. */
type Decision =
  | null
  | { readonly oldText: string; readonly edited: boolean; readonly newText: string; readonly upToDate: true }
  | { readonly oldText: string; readonly edited: boolean; readonly newText: string; readonly upToDate: false; readonly previous: PreviousComponent; readonly apply: (e: EventEditor) => void };

/** The properties a component's decision is made from (with its RECURRENCE-ID, see EventEditor.signature). */
const BLOCK_PROPERTIES = ['DESCRIPTION', 'X-ALT-DESC', 'CONFERENCE', 'LOCATION', FINGERPRINT_PROPERTY, JOIN_URL_PROPERTY];

/**
 * What the rewrites of one meeting share: the organizer's object and each attendee's own copy mostly hold the same
 * block lines (a copy differs in the attendee's PARTSTAT, alarms, categories), so a component whose block
 * properties are byte for byte those of one already decided gets the same edits without locating, parsing and
 * rendering the block again, and the same written lines. Valid for one meeting, one renderer and one `now`.
 */
export interface RewriteMemo {
  readonly edit: EditMemo;
  readonly decisions: Map<string, { readonly decision: Decision; readonly rendering: Rendering | null }>;
}

/** The new block of one object, rendered from the shared-notes link of its first block. */
type Rendering = { readonly notes: string | null; readonly block: RenderedBlock & { joinUrl: string } };

export const newRewriteMemo = (): RewriteMemo => ({ edit: newEditMemo(), decisions: new Map() });

/** Decides one component's rewrite from its block properties; `fresh` renders the new block (once per object). */
function decide(e: EventEditor, fresh: (notes: string | null) => RenderedBlock & { joinUrl: string }, stamp: string | null): Decision {
  const description = e.get('DESCRIPTION');
  const range = description === null ? null : locateTextBlock(description, e.get(JOIN_URL_PROPERTY));
  if (description === null || !range) return null;
  const oldText = description.slice(range.start, range.end);
  const said = parseBlock(oldText);
  const joinUrl = e.get(JOIN_URL_PROPERTY) ?? said.joinUrl;
  const block = fresh(said.sharedNotesUrl);
  const fingerprint = e.get(FINGERPRINT_PROPERTY);
  const edited = fingerprint !== null && fingerprint !== blockFingerprint(oldText);
  const html = e.get('X-ALT-DESC');
  const htmlRange = html === null ? null : locateHtmlBlock(html, joinUrl);
  const conferences = e.getAll('CONFERENCE');
  const upToDate =
    oldText === block.text &&
    (!htmlRange || html!.slice(htmlRange.start, htmlRange.end) === block.html) &&
    block.conferences.every((c) => conferences.some((x) => x.value === c.uri)) &&
    (fingerprint === null || fingerprint === block.fingerprint);
  if (upToDate) return { oldText, edited, newText: block.text, upToDate: true };

  const location = e.get('LOCATION');
  const previous: PreviousComponent = { recurrenceId: e.recurrenceId, text: oldText, html: htmlRange ? html!.slice(htmlRange.start, htmlRange.end) : null, location, conferences, fingerprint, joinUrl };
  const newDescription = replaceTextBlock(description, block.text, joinUrl) as string;
  const newHtml = html !== null && htmlRange ? replaceHtmlBlock(html, block.html, joinUrl) as string : null;
  // Only the CONFERENCE entries of the old block go: its join link, and tel: links to its numbers.
  const oldNumbers = new Set(said.numbers.map(digits));
  const oldConference = (c: { value: string }) => c.value === joinUrl || (c.value.startsWith('tel:') && oldNumbers.has(digits(c.value.slice(4).split(/[,;]/)[0] ?? '')));
  const newLocation = location !== null && joinUrl && location.includes(joinUrl) ? location.split(joinUrl).join(block.joinUrl) : null;
  const setFingerprint = fingerprint !== null || e.recurrenceId === null;
  const hasJoinUrl = e.get(JOIN_URL_PROPERTY) !== null;
  const apply = (x: EventEditor): void => {
    x.set('DESCRIPTION', newDescription);
    if (newHtml !== null) x.set('X-ALT-DESC', newHtml);
    x.remove('CONFERENCE', oldConference);
    for (const c of block.conferences) x.add('CONFERENCE', c.uri, conferenceParams(c));
    if (newLocation !== null) x.set('LOCATION', newLocation);
    if (setFingerprint) x.set(FINGERPRINT_PROPERTY, block.fingerprint);
    if (hasJoinUrl) x.set(JOIN_URL_PROPERTY, block.joinUrl);
    if (stamp !== null) {
      x.set('DTSTAMP', stamp);
      x.set('LAST-MODIFIED', stamp);
    }
  };
  return { oldText, edited, newText: block.text, upToDate: false, previous, apply };
}

/**
 * Replaces only the online meeting information block of every VEVENT of a calendar object: the block inside
 * DESCRIPTION and X-ALT-DESC, the CONFERENCE properties that pointed at the old join link or dial-in numbers,
 * the old join link inside LOCATION, and the block metadata. Every other byte stays. A shared-notes link in the
 * old block is carried into the new one. `edited` tells whether the text inside the old block differs from what
 * MMS (or the add-in) last wrote, by its fingerprint. With `now`, each component that changes gets DTSTAMP and
 * LAST-MODIFIED set to it: a stored object without METHOD says in DTSTAMP when it was last changed
 * (RFC 5545 §3.8.7.2–3.8.7.3), and clients order copies and updates by it. With a `memo` (one per meeting, the
 * same renderer and `now`), components already decided for another object of the meeting are not decided again.
 */
export function rewriteMeeting(ics: string, render: BlockRenderer, now?: number, memo?: RewriteMemo): RewriteOutcome {
  const stamp = now === undefined ? null : utcDateTime(now);
  // One rendering per object, from the first block's shared-notes link; its link is part of the memo's key, so
  // a decision is reused only under the same rendering.
  let rendered: Rendering | null = null;
  const fresh = (notes: string | null) => (rendered ??= { notes, block: render(notes) }).block;
  const previous: PreviousComponent[] = [];
  let edited = false;
  let changed = false;
  let masterOld = '';
  let newBlock = '';
  let found = false;

  const out = editEvents(ics, (e) => {
    const key = memo ? `${stamp}\u0001${rendered ? (rendered as Rendering).notes ?? '' : '\u0002'}\u0001${e.signature(BLOCK_PROPERTIES)}` : null;
    const known = key === null ? undefined : memo!.decisions.get(key);
    let d: Decision;
    if (known) {
      d = known.decision;
      rendered ??= known.rendering; // what this object's later components are rendered with, as if decided here
    } else {
      d = decide(e, fresh, stamp);
      if (key !== null) memo!.decisions.set(key, { decision: d, rendering: rendered });
    }
    if (!d) return;
    found = true;
    newBlock ||= d.newText;
    if (e.recurrenceId === null || !masterOld) masterOld = d.oldText;
    if (d.edited) edited = true;
    if (d.upToDate) return;
    changed = true;
    previous.push(d.previous);
    d.apply(e);
  }, memo?.edit);
  if (!found) return { kind: 'NoBlock' };
  if (!changed) return { kind: 'UpToDate' };
  return { kind: 'Rewritten', ics: out, previous, edited, oldBlock: masterOld, newBlock };
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
