// Turns one parameter's text into its typed value; every failure says which format was expected.
import { isCorrelationIdForm } from '../domain/correlation-id.js';
import { usageError } from '../domain/errors.js';
import type { ParamSpec } from './cmdlet.js';
import { orList } from './suggest.js';

/** The forms `datetime` parameters accept, as printed in errors and help. */
export const DATETIME_FORMS = '2016-10-01, 2016-10-01T14:30:00Z, 2016-10-01T14:30+02:00 or 10/1/2016 2:30 PM (no zone = UTC)';

/** bash and sh expand an unquoted $true/$false to nothing, which is how an empty boolean usually arrives. */
export const SHELL_HINT = "a Unix shell turns an unquoted $false into nothing: write false, or quote it as '$false'";

/** Reads true/false, $true/$false, 1/0 (any case); undefined for anything else. */
export function readBool(text: string): boolean | undefined {
  const v = text.trim().toLowerCase();
  if (v === 'true' || v === '$true' || v === '1') return true;
  if (v === 'false' || v === '$false' || v === '0') return false;
  return undefined;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d); // setUTCFullYear keeps years 0-99 as written, Date.UTC would not
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?(?:\s*([AaPp][Mm]))?$/;

/**
 * Reads ISO 8601 (date, or date and time with or without zone; no zone means UTC) or the US form the
 * Microsoft docs use ("10/1/2016", "10/1/2016 2:30 PM", "10/1/2016 14:30:00"). Returns epoch ms or undefined.
 */
export function readDateTime(text: string): number | undefined {
  const v = text.trim();
  let m = ISO.exec(v);
  if (m) {
    const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
    const t = utc(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), ms);
    if (t === undefined) return undefined;
    const zone = m[8];
    if (!zone || zone === 'Z' || zone === 'z') return t;
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const hours = Number(zm[2]);
    const minutes = Number(zm[3] ?? 0);
    if (hours > 14 || minutes > 59) return undefined;
    return t - (zm[1] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  m = US.exec(v);
  if (m) {
    let hour = Number(m[4] ?? 0);
    const ampm = m[7]?.toUpperCase();
    if (ampm) {
      if (m[4] === undefined || hour < 1 || hour > 12) return undefined;
      hour = (hour % 12) + (ampm === 'PM' ? 12 : 0);
    }
    return utc(Number(m[3]), Number(m[1]), Number(m[2]), hour, Number(m[5] ?? 0), Number(m[6] ?? 0), 0);
  }
  return undefined;
}

/** A date-only token that a following time token may complete ("10/1/2016" "2:30" "PM"). */
export function isBareDate(text: string): boolean {
  return /^\d{1,2}\/\d{1,2}\/\d{4}$/.test(text) || /^\d{4}-\d{2}-\d{2}$/.test(text);
}

/** A time token that may follow a bare date on the command line. */
export function isTimeToken(text: string): boolean {
  return /^\d{1,2}:\d{2}(:\d{2}([.,]\d{1,9})?)?(\s*[AaPp][Mm]|Z|z|[+-]\d{2}(:?\d{2})?)?$/.test(text);
}

export function isAmPm(text: string): boolean {
  return /^[AaPp][Mm]$/.test(text);
}

/** One day less a millisecond: an end given as a date alone ends with that day. */
const REST_OF_DAY_MS = 86_400_000 - 1;

/** Whether `text` is a date without a time, in either accepted form. */
function isDateOnly(text: string): boolean {
  return isBareDate(text.trim());
}

/**
 * String parameters that name something and so cannot be empty: an empty `-Identity` would otherwise mean
 * "no filter" (every user) and an empty path the current folder. Keyed by parameter name, with the fix.
 */
const NOT_EMPTY: Readonly<Record<string, string>> = {
  Identity: 'give a UPN or SIP address, e.g. -Identity ashaw@contoso.com (leave -Identity out to mean every user where the cmdlet allows it)',
  UserId: 'give a UPN or SIP address, e.g. -UserId ashaw@contoso.com',
  Organizer: 'give the organizer\'s UPN or SIP address, e.g. -Organizer ashaw@contoso.com',
  CorrelationId: 'give the CorrelationId Get-CsMeetingMigrationStatus shows, e.g. -CorrelationId 8adf2505-4619-417f-976c-ae6de8a9276e',
  Path: 'give a file path, e.g. -Path ./ashaw.ics',
  InputPath: 'give the exported calendar file, e.g. -InputPath fay.ics',
  OutputPath: 'give where the rewritten calendar goes, e.g. -OutputPath fay-migrated.ics',
  MessagesPath: 'give a folder for the messages, e.g. -MessagesPath fay-updates',
  PasswordFile: 'give a file that holds only the password, e.g. -PasswordFile /etc/mms/dav-password',
  CalDavUrl: 'give the calendar\'s URL, e.g. -CalDavUrl https://dav.contoso.com/fay/calendar/',
  MailboxHost: 'give a host\'s name (Get-MmsMailboxHost lists them)',
};

/** Parameters that name a user: no UPN or SIP address is longer than 256 characters (plus `sip:`). */
const USER_PARAMS = new Set(['Identity', 'UserId', 'Organizer']);
const MAX_USER_TEXT = 256 + 'sip:'.length;

/** Checks a string parameter's text where its name carries a rule (see NOT_EMPTY, USER_PARAMS, CorrelationId). */
function checkString(p: ParamSpec, text: string): string {
  const fix = NOT_EMPTY[p.name];
  if (fix !== undefined && text.trim() === '') throw usageError(`-${p.name} is empty: ${fix}`);
  if (USER_PARAMS.has(p.name) && text.trim().length > MAX_USER_TEXT) {
    // Never echoed whole: a 100,000-character value would make a 100,000-character line.
    throw usageError(`-${p.name} ${JSON.stringify(text.slice(0, 40))}… (${text.length} characters) is longer than any UPN or SIP address (256 characters); give the user's UPN or SIP address, e.g. ashaw@contoso.com`);
  }
  if (p.name === 'CorrelationId') {
    if (!isCorrelationIdForm(text)) {
      const shown = text.length > 60 ? `${JSON.stringify(text.slice(0, 40))}…` : JSON.stringify(text);
      throw usageError(`-CorrelationId ${shown} is not a CorrelationId: give the GUID Get-CsMeetingMigrationStatus shows (e.g. 8adf2505-4619-417f-976c-ae6de8a9276e) or its first 8 or more characters`);
    }
    return text.trim().toLowerCase();
  }
  return text;
}

/** `<type>` as shown in syntax lines and messages. */
export function typeLabel(p: ParamSpec): string {
  switch (p.type) {
    case 'enum':
      return (p.values ?? []).join('|');
    case 'bool':
      return 'true|false';
    default:
      return p.type;
  }
}

/** Converts one value of parameter `p` (for string[]: one item); throws a Usage error naming the format. */
export function parseValue(p: ParamSpec, text: string): unknown {
  const shown = JSON.stringify(text);
  switch (p.type) {
    case 'string':
    case 'string[]':
      return checkString(p, text);
    case 'int': {
      const v = text.trim();
      if (/^[+-]?\d+$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
      throw usageError(`-${p.name} expects a whole number such as 5 or -1, not ${shown}`);
    }
    case 'bool':
    case 'switch': {
      const b = readBool(text);
      if (b !== undefined) return b;
      const hint = text.trim() === '' ? `; ${SHELL_HINT}` : '';
      throw usageError(`-${p.name} expects true or false ($true/$false or 1/0 also work), not ${shown}${hint}`);
    }
    case 'datetime': {
      const t = readDateTime(text);
      // "-EndTime 2026-11-30" means up to the end of that day, not its first millisecond.
      if (t !== undefined) return p.name.endsWith('EndTime') && isDateOnly(text) ? t + REST_OF_DAY_MS : t;
      throw usageError(`-${p.name} expects a date such as ${DATETIME_FORMS}, not ${shown}`);
    }
    case 'enum': {
      const values = p.values ?? [];
      const hit = values.find((x) => x.toLowerCase() === text.trim().toLowerCase());
      if (hit !== undefined) return hit;
      throw usageError(`-${p.name} expects ${orList(values)}, not ${shown}`);
    }
  }
}
