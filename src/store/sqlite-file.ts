// Why a SQLite database file cannot be used, as one line naming the path and the fix — checked before
// better-sqlite3 opens it, whose own errors ("unable to open database file", "attempt to write a readonly
// database") name neither.
import fs from 'node:fs';
import path from 'node:path';
import { MmsError } from '../domain/errors.js';

const configError = (message: string): MmsError => new MmsError('Config', message);

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/**
 * Makes sure `file` can be opened: not a folder, in a folder that exists or can be created (it is created, as the
 * default ./data/mms.sqlite needs), readable, and in a folder this user may write (SQLite keeps its -wal and -shm
 * files beside the database). A file this user may read but not write still opens: reads work, and a write
 * fails with readOnlyError. Throws a Config MmsError otherwise.
 */
export function prepareSqliteFile(file: string): void {
  const dir = path.dirname(file);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) {
    throw configError(`MMS_DATABASE_URL names the folder ${file}, not a database file; give a file in it, e.g. MMS_DATABASE_URL=${path.join(file, 'mms.sqlite')}`);
  }
  if (!st) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw configError(`the folder of the SQLite database ${file} cannot be created (${codeOf(err)}); create ${dir} or point MMS_DATABASE_URL at a file in a folder that exists`);
    }
    if (!fs.statSync(dir).isDirectory()) throw configError(`the SQLite database ${file} is under ${dir}, which is a file, not a folder; point MMS_DATABASE_URL elsewhere`);
  }
  try {
    fs.accessSync(st ? file : dir, st ? fs.constants.R_OK : fs.constants.W_OK);
  } catch {
    throw st
      ? configError(`the SQLite database ${file} cannot be read by this user; give this user read and write permission (chmod u+rw ${file}) or point MMS_DATABASE_URL at a copy it may read`)
      : configError(`the folder ${dir} is read-only for this user, so the SQLite database ${file} cannot be created; give this user write permission on it or point MMS_DATABASE_URL elsewhere`);
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw configError(`the folder ${dir} of the SQLite database ${file} is read-only for this user (SQLite writes its -wal and -shm files there); give this user write permission on it or move the database`);
  }
}

/** A write to a database file this user may only read (SQLite says "attempt to write a readonly database"). */
export function readOnlyError(file: string): MmsError {
  return configError(`the SQLite database ${file} is read-only for this user, so nothing was changed; give this user write permission (chmod u+w ${file}) or point MMS_DATABASE_URL at a copy it may write`);
}

/** Whether an error from SQLite means the file could not be written (permissions, read-only mount). */
export function isReadOnlyError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_READONLY');
}
