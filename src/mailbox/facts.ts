import { meetingTypeOf } from '../domain/meeting-block/index.js';
import { onlineMeetingIdOf } from '../domain/online-meeting.js';
import { indexObject, type ObjectIndex } from '../ical/index.js';
import type { MeetingType } from '../domain/migration.js';
import type { MeetingFacts } from './mailbox-store.js';

/** What every store derives from an object's index: the engine reads these, not the text, to plan. */
export function factsOf(ix: ObjectIndex, ics: string): MeetingFacts {
  return {
    uid: ix.uid,
    ics,
    organizer: ix.organizer,
    firstStart: ix.firstStart,
    lastEnd: ix.lastEnd,
    // Everyone invited to any occurrence, and the organizer, as the documented attendee limit counts them.
    attendeeCount: ix.everyAttendee.length + (ix.organizer && !ix.everyAttendee.includes(ix.organizer) ? 1 : 0),
    attendees: ix.everyAttendee.filter((a) => a !== ix.organizer),
    onlineMeetingId: onlineMeetingIdOf(ix.xProps),
    meetingType: meetingTypeOf({ xProps: ix.xProps, description: ix.description }),
    summary: ix.summary,
    floatingZone: ix.floatingZone,
    unknownZones: ix.unknownZones,
    zonesDerived: true,
  };
}

/** The meeting type of a text, or undefined when it does not parse (then whatever was known of it stands). */
export function meetingTypeOfText(ics: string): MeetingType | null | undefined {
  try {
    const ix = indexObject(ics);
    return meetingTypeOf({ xProps: ix.xProps, description: ix.description });
  } catch {
    return undefined;
  }
}
