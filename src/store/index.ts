export { isConnectionLost, openDatabase, pingDatabase, redact, sqlitePath, type Db, type Dialect } from './db.js';
export type * from './schema.js';
