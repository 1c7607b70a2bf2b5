export { isConnectionLost, openDatabase, pingDatabase, redact, type Db, type Dialect } from './db.js';
export type * from './schema.js';
