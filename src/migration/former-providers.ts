// Meetings written while the organizer was on a third-party audio-conferencing provider: the provider's values
// come from the audit trail (the directory keeps them there when the provider is replaced), and the provider's
// lines in a meeting are replaced by our block the way an old block of ours is.
import type { ThirdPartyAcp, User } from '../domain/directory.js';
import {
  carriesProviderValue, locateProviderHtml, locateProviderText, replaceRange, type FormerProvider, type RenderedBlock,
} from '../domain/meeting-block/index.js';
import { FINGERPRINT_PROPERTY, MEETING_ID_PROPERTY } from '../domain/online-meeting.js';
import { editEvents, utcDateTime } from '../ical/index.js';
import { auditChangesOf } from '../store/audit-repo.js';
import type { Db } from '../store/index.js';
import type { BlockRenderer, PreviousComponent } from './rewrite-meeting.js';

const JOIN_URL_PROPERTY = 'X-MICROSOFT-SKYPETEAMSMEETINGURL';

function asAcp(value: unknown): ThirdPartyAcp | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v['tollNumber'] !== 'string' || typeof v['participantPasscode'] !== 'string') return null;
  return {
    name: typeof v['name'] === 'string' ? v['name'] : '',
    tollNumber: v['tollNumber'],
    tollFreeNumber: typeof v['tollFreeNumber'] === 'string' ? v['tollFreeNumber'] : null,
    participantPasscode: v['participantPasscode'],
    url: typeof v['url'] === 'string' ? v['url'] : null,
  };
}

const keyOf = (a: ThirdPartyAcp) => JSON.stringify([a.name, a.tollNumber, a.tollFreeNumber, a.participantPasscode, a.url]);

/**
 * The third-party providers `user` was on before, newest first, from their audit rows (every ACP value a
 * Set-CsUserAcp, -ReplaceProvider or licence change recorded, before or after), without the provider they are on
 * now: its text is theirs still. Empty for a user who was never on one.
 */
export async function loadFormerProviders(db: Db, user: User): Promise<FormerProvider[]> {
  const changes = await auditChangesOf(db.kysely, user.tenantId, user.id, 'acp');
  const current = user.acProvider === 'ThirdParty' && user.acp ? keyOf(user.acp) : null;
  const seen = new Map<string, ThirdPartyAcp>();
  for (const c of [...changes].reverse()) {
    const change = c['acp'];
    if (!Array.isArray(change)) continue;
    for (const value of [...change].reverse()) {
      const acp = asAcp(value);
      if (acp && keyOf(acp) !== current && !seen.has(keyOf(acp))) seen.set(keyOf(acp), acp);
    }
  }
  return [...seen.values()].map((a) => ({
    name: a.name,
    numbers: [a.tollNumber, ...(a.tollFreeNumber ? [a.tollFreeNumber] : [])],
    participantPasscode: a.participantPasscode,
    url: a.url,
  }));
}

/** Whether any VEVENT's DESCRIPTION carries a former provider's lines (read only). */
export function carriesFormerProvider(ics: string, providers: readonly FormerProvider[]): boolean {
  let found = false;
  editEvents(ics, (e) => {
    const d = e.get('DESCRIPTION');
    if (!found && d !== null && locateProviderText(d, providers) !== null) found = true;
  });
  return found;
}

const digits = (s: string): string => s.replace(/\D/g, '');

/**
 * Replaces a former provider's lines in every VEVENT whose DESCRIPTION carries them with our block: the lines in
 * DESCRIPTION and, when it carries them too, in X-ALT-DESC; the provider's tel: CONFERENCE entries and link; a
 * LOCATION carrying its number or passcode (it becomes the join link); the block metadata. Every other byte stays,
 * and `previous` holds what undo puts back. `meetingId` is written as the online meeting id when the object had
 * none: the block's join link names that meeting from now on (the renderer read it from the UID already).
 * Null when no component carries a former provider's lines.
 */
export function rewriteFormerProvider(
  ics: string,
  render: BlockRenderer,
  providers: readonly FormerProvider[],
  opts: { now?: number; meetingId?: string | null } = {},
): { ics: string; previous: PreviousComponent[]; oldBlock: string; newBlock: string; provider: FormerProvider } | null {
  const stamp = opts.now === undefined ? null : utcDateTime(opts.now);
  let fresh: (RenderedBlock & { joinUrl: string }) | null = null;
  let provider: FormerProvider | null = null;
  const previous: PreviousComponent[] = [];
  let masterOld = '';
  const out = editEvents(ics, (e) => {
    const description = e.get('DESCRIPTION');
    const run = description === null ? null : locateProviderText(description, providers);
    if (description === null || run === null) return;
    provider ??= run.provider;
    fresh ??= render(null);
    const block = fresh;
    const oldText = description.slice(run.range.start, run.range.end);
    if (e.recurrenceId === null || !masterOld) masterOld = oldText;
    const html = e.get('X-ALT-DESC');
    const htmlRun = html === null ? null : locateProviderHtml(html, [run.provider]);
    const location = e.get('LOCATION');
    const conferences = e.getAll('CONFERENCE');
    const joinUrl = e.get(JOIN_URL_PROPERTY);
    previous.push({
      recurrenceId: e.recurrenceId, text: oldText, html: htmlRun && html !== null ? html.slice(htmlRun.range.start, htmlRun.range.end) : null,
      location, conferences, fingerprint: e.get(FINGERPRINT_PROPERTY), joinUrl,
    });
    e.set('DESCRIPTION', replaceRange(description, run.range, block.text));
    if (html !== null && htmlRun) e.set('X-ALT-DESC', html.slice(0, htmlRun.range.start) + block.html + html.slice(htmlRun.range.end));
    const numbers = new Set(run.provider.numbers.map(digits));
    e.remove('CONFERENCE', (c) => c.value === run.provider.url || (/^tel:/i.test(c.value) && numbers.has(digits(c.value.slice(4).split(/[,;]/)[0] ?? ''))));
    for (const c of block.conferences) e.add('CONFERENCE', c.uri, { VALUE: 'URI', FEATURE: c.features.join(','), LABEL: c.label });
    if (location !== null && carriesProviderValue(location, [run.provider])) e.set('LOCATION', block.joinUrl);
    else if (location !== null && joinUrl && location.includes(joinUrl)) e.set('LOCATION', location.split(joinUrl).join(block.joinUrl));
    e.set(FINGERPRINT_PROPERTY, block.fingerprint);
    if (opts.meetingId && e.get(MEETING_ID_PROPERTY) === null) e.set(MEETING_ID_PROPERTY, opts.meetingId);
    if (joinUrl !== null) e.set(JOIN_URL_PROPERTY, block.joinUrl);
    if (stamp !== null) {
      e.set('DTSTAMP', stamp);
      e.set('LAST-MODIFIED', stamp);
    }
  });
  if (provider === null || fresh === null) return null;
  return { ics: out, previous, oldBlock: masterOld, newBlock: (fresh as RenderedBlock).text, provider };
}
