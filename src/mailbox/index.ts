export { VersionConflict, type MailboxStore, type StoredObject } from './mailbox-store.js';
export { BuiltinMailboxStore } from './builtin-store.js';
