export {
  copyKey, VersionConflict, type CopyKey, type MeetingFacts, type MeetingObject, type Scheduling, type StoredObject, type UserMailbox,
  type WriteIntent, type WriteOutcome, type WriteUnit,
} from './mailbox-store.js';
export { BuiltinMailboxStore } from './builtin-store.js';
export { meetingOf } from './builtin-mailbox.js';
export { connectionOf, hostSecretContext, userSecretContext, type MailboxConnection } from './connection.js';
export { factsOf } from './facts.js';
export { openMailboxAt, openUserMailbox, type OpenMailboxOptions } from './open-mailbox.js';
