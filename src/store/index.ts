export { openDatabase, redact, type Db, type Dialect } from './db.js';
export type * from './schema.js';
