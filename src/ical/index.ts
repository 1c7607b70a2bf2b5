// The iCalendar boundary of MMS: the only place that reads or writes iCalendar text. Objects are stored as
// received; edits rewrite only the content lines they change (see edit.ts).
export { decodeIcs } from './decode.js';
export { splitCalendar, joinCalendar, type SplitResult } from './split.js';
export { indexObject, occurrencesBetween, type ObjectIndex, type ReadTimesOptions } from './index-object.js';
export { ianaZoneOf } from './zones.js';
export { MAX_RECURRENCE_ITERATIONS } from './occurrences.js';
export { editEvents, newEditMemo, type EditMemo, type EventEditor } from './edit.js';
export { buildEvent, MMS_PRODID, type NewEventInput } from './build.js';
export { vtimezoneFor } from './vtimezone.js';
export { foldLine } from './fold.js';
export { escapeText, unescapeText } from './text-codec.js';
export type { ComponentProblem } from './validate.js';
export { itipRequests, utcDateTime, type ItipMessage, type ItipOptions } from './itip.js';
