import type { Config } from '../config.js';
import { secretBoxFor, type SecretBox } from '../secrets/index.js';
import { sqlitePath, type Db } from '../store/index.js';

/** The box that seals and opens passwords for this database (MMS_SECRET_KEY, or SQLite's key file beside the database). */
export function secretsFor(config: Config, db: Db): SecretBox {
  return secretBoxFor({ secretKey: config.secretKey, dialect: db.dialect, sqliteFile: db.dialect === 'sqlite' ? sqlitePath(config.databaseUrl) : undefined });
}
