import { MmsError } from '../domain/errors.js';
import type { StoredObject } from '../mailbox/index.js';
import { rewriteMeeting, type BlockRenderer, type PreviousBlock } from './rewrite-meeting.js';

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
  | { readonly action: 'Update'; readonly ics: string; readonly previous: PreviousBlock; readonly edited: boolean; readonly oldBlock: string; readonly newBlock: string };

/**
 * Decides what a migration does with one of the organizer's meetings, without writing anything: the preview
 * (-WhatIf) and the real run share it.
 */
export function planMeeting(
  o: StoredObject,
  ctx: { now: number; maxAttendees: number; preserveEdited: boolean; render: (o: StoredObject) => BlockRenderer; hasBlock: (ics: string) => boolean },
): MeetingPlan | null {
  if (o.onlineMeetingId === null) {
    let copied = false;
    try {
      copied = ctx.hasBlock(o.ics);
    } catch {
      return null;
    }
    return copied ? { action: 'Skipped', reason: 'CopiedBlock', detail: SKIP_REASONS.CopiedBlock } : null;
  }
  if (o.lastEnd !== null && o.lastEnd <= ctx.now) return { action: 'Skipped', reason: 'PastMeeting', detail: SKIP_REASONS.PastMeeting };
  if (o.attendeeCount > ctx.maxAttendees) {
    return { action: 'Skipped', reason: 'TooManyAttendees', detail: `${o.attendeeCount} attendees, limit ${ctx.maxAttendees}: ${SKIP_REASONS.TooManyAttendees}` };
  }
  let r;
  try {
    r = rewriteMeeting(o.ics, ctx.render(o), ctx.now);
  } catch (err) {
    if (!(err instanceof MmsError)) throw err;
    return { action: 'Skipped', reason: 'Unparseable', detail: `${SKIP_REASONS.Unparseable}: ${err.message}` };
  }
  if (r.kind === 'NoBlock') return { action: 'Skipped', reason: 'BlockNotFound', detail: SKIP_REASONS.BlockNotFound };
  if (r.kind === 'UpToDate') return { action: 'UpToDate' };
  if (r.edited && ctx.preserveEdited) return { action: 'Skipped', reason: 'EditedBlockPreserved', detail: SKIP_REASONS.EditedBlockPreserved };
  return { action: 'Update', ics: r.ics, previous: r.previous, edited: r.edited, oldBlock: r.oldBlock, newBlock: r.newBlock };
}
