export { busyError, isBusyError, isConnectionLost, openDatabase, pingDatabase, sqlitePath, type Db, type Dialect } from './db.js';
export { redact } from '../config.js';
export type * from './schema.js';
