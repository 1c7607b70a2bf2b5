// The file and folder parameters' checks: each mistake (a folder for a file, a missing folder, no permission)
// is one Usage line naming the path and the fix, before anything is read or written.
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../../domain/errors.js';

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** Says why `dir` cannot hold a file, or undefined when it can. */
function folderProblem(param: string, file: string, dir: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return `-${param} ${file} is in a folder that does not exist (${dir}); create the folder or choose another path`;
  }
  if (!st.isDirectory()) return `-${param} ${file} is under ${dir}, which is a file, not a folder; choose another path`;
  return undefined;
}

/**
 * Reads the file a parameter names. A missing file, a missing folder, a folder, or a file this user may not
 * read is a Usage error naming the path and what to give instead (`what`: "the .ics file").
 */
export function readFileParam(param: string, file: string, what: string): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    const dir = path.dirname(path.resolve(file));
    throw usageError(folderProblem(param, file, dir) ?? (errnoOf(err) === 'ENOENT'
      ? `-${param} ${file} does not exist; give the path of ${what}`
      : `-${param} ${file} cannot be read (${errnoOf(err)}); give the path of ${what}`));
  }
  if (st.isDirectory()) throw usageError(`-${param} ${file} is a folder; give the path of ${what} in it`);
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const fix = errnoOf(err) === 'EACCES' ? `let this user read it (chmod u+r ${file}) or give a copy this user can read` : `give the path of ${what}`;
    throw usageError(`-${param} ${file} cannot be read (${errnoOf(err)}); ${fix}`);
  }
}

/**
 * Checks that a file can be written at `file` before any work is done: not a folder, in a folder that exists,
 * and writable by this user when it already exists.
 */
export function checkWritableFile(param: string, file: string): void {
  const dir = path.dirname(path.resolve(file));
  const problem = folderProblem(param, file, dir);
  if (problem) throw usageError(problem);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) throw usageError(`-${param} ${file} is a folder; give a file name in it, e.g. ${path.join(file, 'calendar.ics')}`);
  try {
    fs.accessSync(st ? file : dir, fs.constants.W_OK);
  } catch {
    throw usageError(`-${param} ${file} cannot be written: ${st ? 'the file' : `the folder ${dir}`} is read-only for this user; choose another path or change its permissions`);
  }
}

/** Writes `text` to the file a parameter names and says so (the line Export-MmsCalendar prints, locally or remotely). */
export function writeFileParam(param: string, file: string, text: string | Uint8Array): string {
  try {
    fs.writeFileSync(file, text);
  } catch (err) {
    throw writeFailed(param, file, err);
  }
  return `wrote ${typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength} bytes to ${file}`;
}

/** Turns a failed write into the one-line Usage error (for what the checks above cannot foresee). */
export function writeFailed(param: string, file: string, err: unknown): Error {
  return usageError(`cannot write -${param} ${file} (${errnoOf(err)}); check that its folder exists and is writable, or choose another path`);
}

/**
 * Checks a folder parameter that is created when missing: it is not a file, and the nearest part of it that
 * exists is a folder this user may write (so creating it later cannot fail half-way through the work).
 */
export function checkFolderParam(param: string, dir: string): void {
  let at = path.resolve(dir);
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(at);
    } catch {
      st = undefined;
    }
    if (st) {
      if (!st.isDirectory()) {
        throw usageError(at === path.resolve(dir)
          ? `-${param} ${dir} is a file; give a folder (it is created when missing)`
          : `-${param} ${dir} cannot be created: ${at} is a file, not a folder; choose another path`);
      }
      try {
        fs.accessSync(at, fs.constants.W_OK);
      } catch {
        throw usageError(`-${param} ${dir} cannot be written: the folder ${at} is read-only for this user; choose another path or change its permissions`);
      }
      return;
    }
    const up = path.dirname(at);
    if (up === at) return;
    at = up;
  }
}
