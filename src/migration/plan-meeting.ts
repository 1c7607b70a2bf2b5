import { MmsError } from '../domain/errors.js';
import type { MeetingType } from '../domain/migration.js';
import { indexObject } from '../ical/index.js';
import type { FormerProvider } from '../domain/meeting-block/index.js';
import type { MeetingFacts } from '../mailbox/index.js';
import { carriesFormerProvider, rewriteFormerProvider } from './former-providers.js';
import { rewriteMeeting, type BlockRenderer, type PreviousBlock, type RewriteMemo } from './rewrite-meeting.js';

/** Why a meeting was skipped: each is recorded with a sentence an admin can act on. */
export const SKIP_REASONS = {
  PastMeeting: 'the meeting is over (no occurrence ends after now)',
  CopiedBlock: 'the online meeting block was copied into this meeting without its metadata; only meetings scheduled with the add-in are migrated — recreate it with the add-in',
  TooManyAttendees: 'more attendees than MaxMeetingAttendees (organizer included); raise it with Set-CsOnlineDialInConferencingTenantSettings -MaxMeetingAttendees or update the meeting by hand',
  Unparseable: 'the calendar object does not parse as iCalendar',
  BlockNotFound: 'the meeting has online meeting metadata but its description no longer holds the block (removed by the organizer)',
  EditedBlockPreserved: 'the organizer edited text inside the block and PreserveEditedBlocks is true; update it by hand or turn the setting off',
} as const;
export type SkipReason = keyof typeof SKIP_REASONS;

export type MeetingPlan =
  | { readonly action: 'Skipped'; readonly reason: SkipReason; readonly detail: string }
  | { readonly action: 'UpToDate' }
  | {
    readonly action: 'Update'; readonly ics: string; readonly previous: PreviousBlock; readonly edited: boolean; readonly oldBlock: string; readonly newBlock: string;
    /** Said with the update's reason: e.g. that the meeting counted as future only because its zone is unknown. */
    readonly note?: string;
    /** The meeting's type before and after the update (issue 12), when the planner was told types (ctx.typeFor). */
    readonly meetingTypeBefore?: MeetingType | null;
    readonly meetingType?: MeetingType;
  };

/**
 * How far the past/future cut moves for a meeting whose time zone nobody could resolve. Its times were read as
 * UTC and real offsets run from UTC-12 to UTC+14, so within 14 hours of now the meeting may still be ahead:
 * it is migrated rather than skipped for good (an update to a meeting that just ended is harmless, skipping
 * one that is about to start is not).
 */
export const UNKNOWN_ZONE_MARGIN_MS = 14 * 3_600_000;

/**
 * Last end and unresolved zones of an object as the cut needs them. The stored columns are right for objects
 * stored with today's rules in the organizer's current zone (a zone change derives them again); an object
 * stored before time zones were resolved, or derived in another zone, is read again here. Only objects the
 * stored columns call past pay for that: a meeting that counts as future is migrated whatever the zone says.
 */
function timesOf(o: MeetingFacts, now: number, timeZone: string): { lastEnd: number | null; unknownZones: readonly string[] } {
  const stale = !o.zonesDerived || (o.floatingZone !== null && o.floatingZone !== timeZone);
  if (!stale || o.lastEnd === null || o.lastEnd > now) return { lastEnd: o.lastEnd, unknownZones: o.unknownZones };
  const ix = indexObject(o.ics, { timeZone });
  return { lastEnd: ix.lastEnd, unknownZones: ix.unknownZones };
}

/**
 * Decides what a migration does with one of the organizer's meetings, without writing anything: the preview
 * (-WhatIf) and the real run share it.
 */
export function planMeeting(
  o: MeetingFacts,
  ctx: {
    now: number; maxAttendees: number; preserveEdited: boolean; render: (o: MeetingFacts) => BlockRenderer; hasBlock: (ics: string) => boolean;
    /** The organizer's IANA zone, in which floating times are read (default UTC). */
    timeZone?: string;
    /**
     * The third-party providers the organizer was on before (loadFormerProviders): a meeting that carries one's
     * passcode and number instead of a block is migrated, its provider lines replaced by our block.
     */
    formerProviderBlocks?: readonly FormerProvider[];
    /** The type each meeting's new block has (UserScope.typeFor): recorded with the update, so a conversion shows. */
    typeFor?: (o: MeetingFacts) => MeetingType;
    /** Shared with the rewrites of the attendees' copies of this meeting (same renderer and `now`). */
    memo?: RewriteMemo;
  },
): MeetingPlan | null {
  const types = ctx.typeFor ? { meetingTypeBefore: o.meetingType, meetingType: ctx.typeFor(o) } : {};
  const former = ctx.formerProviderBlocks ?? [];
  if (o.onlineMeetingId === null) {
    let copied = false;
    let provider = false;
    try {
      copied = ctx.hasBlock(o.ics);
      // No online meeting metadata, but the organizer's own former dial-in: theirs to migrate.
      provider = !copied && former.length > 0 && carriesFormerProvider(o.ics, former);
    } catch {
      return null;
    }
    if (copied) return { action: 'Skipped', reason: 'CopiedBlock', detail: SKIP_REASONS.CopiedBlock };
    if (!provider) return null;
  }
  let times;
  try {
    times = timesOf(o, ctx.now, ctx.timeZone ?? 'UTC');
  } catch (err) {
    if (!(err instanceof MmsError)) throw err;
    return { action: 'Skipped', reason: 'Unparseable', detail: `${SKIP_REASONS.Unparseable}: ${err.message}` };
  }
  let note: string | undefined;
  if (times.lastEnd !== null && times.lastEnd <= ctx.now) {
    if (!times.unknownZones.length) return { action: 'Skipped', reason: 'PastMeeting', detail: SKIP_REASONS.PastMeeting };
    const zones = times.unknownZones.map((z) => `"${z}"`).join(', ');
    if (times.lastEnd + UNKNOWN_ZONE_MARGIN_MS <= ctx.now) {
      return { action: 'Skipped', reason: 'PastMeeting', detail: `${SKIP_REASONS.PastMeeting}; its time zone ${zones} is unknown, so the cut was widened by 14 hours and it ended before that too` };
    }
    note = `UnknownTimeZone: time zone ${zones} is unknown (times read as UTC); the past/future cut was widened by 14 hours and the meeting counted as future`;
  }
  if (o.attendeeCount > ctx.maxAttendees) {
    return { action: 'Skipped', reason: 'TooManyAttendees', detail: `${o.attendeeCount} attendees, limit ${ctx.maxAttendees}: ${SKIP_REASONS.TooManyAttendees}` };
  }
  let r;
  let third;
  try {
    r = rewriteMeeting(o.ics, ctx.render(o), ctx.now, ctx.memo);
    if (r.kind === 'NoBlock' && former.length) third = rewriteFormerProvider(o.ics, ctx.render(o), former, { now: ctx.now, meetingId: o.onlineMeetingId === null ? o.uid : null });
  } catch (err) {
    if (!(err instanceof MmsError)) throw err;
    return { action: 'Skipped', reason: 'Unparseable', detail: `${SKIP_REASONS.Unparseable}: ${err.message}` };
  }
  if (third) {
    const said = `ThirdPartyBlockReplaced: the dial-in text of the former provider ${third.provider.name} (its passcode and numbers, from the audit trail) was replaced by the block; the old text is kept in the history for undo`;
    return { action: 'Update', ics: third.ics, previous: third.previous, edited: false, oldBlock: third.oldBlock, newBlock: third.newBlock, note: note ? `${said}; ${note}` : said, ...types };
  }
  if (r.kind === 'NoBlock') return { action: 'Skipped', reason: 'BlockNotFound', detail: SKIP_REASONS.BlockNotFound };
  if (r.kind === 'UpToDate') return { action: 'UpToDate' };
  if (r.edited && ctx.preserveEdited) return { action: 'Skipped', reason: 'EditedBlockPreserved', detail: SKIP_REASONS.EditedBlockPreserved };
  return { action: 'Update', ics: r.ics, previous: r.previous, edited: r.edited, oldBlock: r.oldBlock, newBlock: r.newBlock, ...(note ? { note } : {}), ...types };
}
