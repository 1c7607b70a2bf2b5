import fs from 'node:fs';
import path from 'node:path';
import type SQLite from 'better-sqlite3';
import { MmsError } from '../domain/errors.js';
import { WAL_SIZE_LIMIT_BYTES } from './checkpoint.js';

/** PostgreSQL's SQLSTATE disk_full (class 53, insufficient resources): the server could not extend a file. */
export const PG_DISK_FULL = '53100';

/**
 * The database ran out of room. Transient (space comes back when someone frees it), but retried on its own short
 * schedule (see migration/backoff.ts), not the hours-long one meant for remote failures.
 */
export class DiskFullError extends MmsError {
  constructor(message: string) {
    super('Transient', message);
    this.name = 'DiskFullError';
  }
}

/** True for a full disk on either database: our DiskFullError, SQLite's SQLITE_FULL, PostgreSQL's 53100. */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof DiskFullError) return true;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === 'SQLITE_FULL' || code === PG_DISK_FULL;
}

const MB = 1024 * 1024;
const size = (bytes: number): string => (bytes >= 1024 * MB ? `${(bytes / 1024 / MB).toFixed(1)} GB` : `${(bytes / MB).toFixed(1)} MB`);

/**
 * SQLite's bare "database or disk is full" as one line that names the database file, the space free in its folder
 * (statfs) and the space MMS needs there, with the fix. The folder is where the database and its WAL grow.
 */
export function sqliteFullError(handle: SQLite.Database, file: string): DiskFullError {
  const dir = path.dirname(file);
  const pageSize = Number(handle.pragma('page_size', { simple: true }));
  const pages = Number(handle.pragma('page_count', { simple: true }));
  const maxPages = Number(handle.pragma('max_page_count', { simple: true }));
  const needed = WAL_SIZE_LIMIT_BYTES;
  let free: number | undefined;
  try {
    const s = fs.statfsSync(dir);
    free = s.bavail * s.bsize;
  } catch {
    free = undefined; // the folder vanished or cannot be read: say what we know
  }
  const head = `SQLite database ${file} is full ("database or disk is full"): ${free === undefined ? 'unknown space' : size(free)} free on ${dir}, at least ${size(needed)} needed there`;
  const retry = 'migration requests retry by themselves within minutes';
  if ((maxPages - pages) * pageSize < needed) {
    return new DiskFullError(`${head}; it reached its page limit (PRAGMA max_page_count ${maxPages} pages of ${pageSize} bytes, ${size(maxPages * pageSize)}): raise or remove that limit; ${retry}`);
  }
  if (free === undefined || free < needed) {
    return new DiskFullError(`${head} (the write-ahead log alone takes up to ${size(WAL_SIZE_LIMIT_BYTES)}): free space on that disk or move MMS_DATABASE_URL to a larger one; ${retry}`);
  }
  return new DiskFullError(`${head}; the disk was full a moment ago or a quota limits this user: check the disk's usage and quotas; ${retry}`);
}
