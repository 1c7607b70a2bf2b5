// Calendar objects for 100,000 meetings in seconds: one meeting is scheduled through the real New-MmsMeeting path
// (renderBlock + buildEvent, exactly what the add-in writes), and every other meeting's text is that template with
// its UID, meeting id, times, subject, organizer, conference ID, attendees and block fingerprint substituted, then
// folded again at 75 octets. world.ts checks the result byte for byte against meetings scheduled for real.
import { foldLine } from '../src/ical/index.js';
import { blockFingerprint } from '../src/domain/meeting-block/index.js';

/** What makes one bench meeting different from another. */
export interface MeetingFields {
  readonly uid: string;
  /** 8 characters, like newMeetingId(). */
  readonly meetingId: string;
  /** Whole seconds (buildEvent writes seconds). */
  readonly start: number;
  readonly end: number;
  readonly subject: string;
  /** The organizer's UPN local part (also the SIP user in the join link). */
  readonly organizerLocal: string;
  readonly organizerName: string;
  readonly conferenceId: string;
  /** Internal attendees (users of the tenant): UPN local part and display name. */
  readonly internal: ReadonlyArray<{ readonly local: string; readonly name: string }>;
  /** External attendees' local parts (their domain is fixed). */
  readonly external: readonly string[];
}

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const SPACE = 1n << 40n;

/** A deterministic, unique, random-looking 8-character meeting id for meeting number `n` (a bijection on 0..2^40). */
export function benchMeetingId(n: number): string {
  let x = (BigInt(n) * 0x9e3779b1n + 0x5deece66dn) % SPACE;
  let id = '';
  for (let i = 0; i < 8; i++) {
    id = ALPHABET[Number(x & 31n)] + id;
    x >>= 5n;
  }
  return id;
}

/** `YYYYMMDDTHHMMSSZ`, as buildEvent writes UTC times. */
export function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function pairs(f: MeetingFields): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['uid', f.uid],
    ['meetingId', f.meetingId],
    ['start', `DTSTART:${utcStamp(f.start)}`],
    ['end', `DTEND:${utcStamp(f.end)}`],
    ['subject', f.subject],
    ['organizerLocal', f.organizerLocal],
    ['organizerName', f.organizerName],
    ['conferenceId', f.conferenceId],
  ];
  f.internal.forEach((a, i) => out.push([`internal${i}`, a.local], [`internalName${i}`, a.name]));
  f.external.forEach((a, i) => out.push([`external${i}`, a]));
  return out;
}

/**
 * A stored meeting and the fields it was scheduled with, ready to produce the text of any other meeting of the
 * same shape (same attendee counts, same bridge, same language and body).
 */
export class MeetingTemplate {
  private readonly unfolded: string;
  private readonly pattern: RegExp;
  private readonly keyOf: Map<string, string>;
  private readonly fingerprint: string;

  /**
   * @param ics the template meeting exactly as the store holds it
   * @param fields what it was scheduled with
   * @param blockText the plain-text block renderBlock gave it (its fingerprint is in the text)
   */
  constructor(ics: string, private readonly fields: MeetingFields, private readonly blockText: string) {
    this.unfolded = ics.replace(/\r\n[ \t]/g, '');
    this.fingerprint = blockFingerprint(blockText);
    if (!this.unfolded.includes(this.fingerprint)) throw new Error('bench template: the block fingerprint is not in the template; did scheduleMeeting change?');
    this.keyOf = new Map();
    for (const [key, token] of pairs(fields)) {
      if (this.keyOf.has(token)) throw new Error(`bench template: the token ${token} is used twice; choose distinct names`);
      if (!this.unfolded.includes(token)) throw new Error(`bench template: ${key} "${token}" does not occur in the template`);
      this.keyOf.set(token, key);
    }
    this.keyOf.set(this.fingerprint, 'fingerprint');
    const tokens = [...this.keyOf.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.pattern = new RegExp(tokens.join('|'), 'g');
  }

  private substitute(text: string, f: MeetingFields, fingerprint: string | null): string {
    if (f.internal.length !== this.fields.internal.length || f.external.length !== this.fields.external.length) {
      throw new Error('bench template: a meeting must have the attendee counts of its template');
    }
    const values = new Map<string, string>(pairs(f));
    if (fingerprint !== null) values.set('fingerprint', fingerprint);
    return text.replace(this.pattern, (token) => values.get(this.keyOf.get(token) as string) as string);
  }

  /** The block text a meeting with fields `f` carries (what its fingerprint hashes). */
  blockTextFor(f: MeetingFields): string {
    return this.substitute(this.blockText, f, null);
  }

  /** The full iCalendar text of a meeting with fields `f`, folded as buildEvent folds. */
  icsFor(f: MeetingFields): string {
    const fingerprint = blockFingerprint(this.blockTextFor(f));
    const logical = this.substitute(this.unfolded, f, fingerprint);
    return logical.split('\r\n').map((line) => foldLine(line)).join('\r\n');
  }
}
