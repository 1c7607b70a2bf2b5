export { scheduleMeeting, newMeetingId, addressesOf, type ScheduleInput, type Scheduled } from './schedule-meeting.js';
export { importCalendar, exportCalendar, listMeetings, readCalendarFile, type ImportResult } from './calendar-io.js';
export { blockInputFor } from './block-input.js';
