import { randomInt, randomUUID } from 'node:crypto';
import { buildEvent, vtimezoneFor } from '../ical/index.js';
import { insertHtmlBlock, insertTextBlock, renderBlock } from '../domain/meeting-block/index.js';
import { conflict, notFound, usageError } from '../domain/errors.js';
import { FINGERPRINT_PROPERTY, MEETING_ID_PROPERTY } from '../domain/online-meeting.js';
import type { User } from '../domain/directory.js';
import { findUser, getTenant, listBridges } from '../store/directory-repo.js';
import { writeTransaction, type Tx } from '../store/transaction.js';
import type { Db } from '../store/index.js';
import { BuiltinMailboxStore } from '../mailbox/index.js';
import { blockInputFor } from './block-input.js';

export interface ScheduleInput {
  readonly organizer: string;
  readonly subject: string;
  readonly start: number;
  readonly end: number;
  readonly attendees?: readonly string[];
  readonly body?: string;
  readonly recurrence?: string;
  readonly timeZone?: string;
  /** Fixed UID / meeting id for imports and tests; random otherwise. */
  readonly uid?: string;
  readonly meetingId?: string;
}

export interface Scheduled {
  readonly uid: string;
  readonly meetingId: string;
  readonly joinUrl: string;
  readonly internalCopies: number;
  readonly externalAttendees: number;
}

const MEETING_ID_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const EMAIL = /^[^@\s<>"]+@[^@\s<>"]+\.[^@\s<>"]+$/;

/** A Skype-style online meeting id: 8 characters that cannot be misread (no 0/O, 1/I). */
export function newMeetingId(): string {
  let id = '';
  for (let i = 0; i < 8; i++) id += MEETING_ID_ALPHABET[randomInt(MEETING_ID_ALPHABET.length)];
  return id;
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Addresses a user is known by in ORGANIZER / ATTENDEE values. */
export function addressesOf(user: User): string[] {
  const sip = user.sipAddress.replace(/^sip:/i, '');
  return sip === user.upn ? [user.upn] : [user.upn, sip];
}

/**
 * New-MmsMeeting: schedules a meeting the way the Outlook add-in does. The organizer's online meeting block is
 * rendered in their language into DESCRIPTION and X-ALT-DESC, with RFC 7986 CONFERENCE properties and the metadata
 * that ties the block to the online meeting; internal attendees get their copy in their own mailbox.
 */
export async function scheduleMeeting(db: Db, tenantId: string, input: ScheduleInput, now: () => number): Promise<Scheduled> {
  const subject = input.subject.trim();
  if (!subject) throw usageError('Subject is empty: give the meeting a subject');
  if (!(input.end > input.start)) throw usageError('End must be after Start: give -End later than -Start');
  const attendees = [...new Set((input.attendees ?? []).map((a) => a.trim().toLowerCase().replace(/^mailto:/, '')).filter(Boolean))];
  for (const a of attendees) if (!EMAIL.test(a)) throw usageError(`attendee '${a}' is not a mail address: write name@domain`);
  const rrule = input.recurrence?.trim().replace(/^RRULE:/i, '');
  if (rrule !== undefined && !/^FREQ=/i.test(rrule)) throw usageError(`Recurrence '${input.recurrence}' is not an RRULE: write e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10 (RFC 5545 §3.3.10)`);
  if (input.timeZone && !vtimezoneFor(input.timeZone, new Date(input.start).getUTCFullYear())) {
    throw usageError(`TimeZone '${input.timeZone}' is not an IANA time zone: write e.g. Europe/Paris or America/Los_Angeles`);
  }
  return writeTransaction(db, async (tx) => schedule(tx, tenantId, { ...input, subject, attendees, recurrence: rrule }, now));
}

async function schedule(tx: Tx, tenantId: string, input: ScheduleInput & { attendees: string[] }, now: () => number): Promise<Scheduled> {
  const tenant = await getTenant(tx, tenantId);
  if (!tenant) throw notFound(`tenant ${tenantId} no longer exists`);
  const organizer = await findUser(tx, tenantId, input.organizer);
  if (!organizer) throw notFound(`no user '${input.organizer}' in tenant ${tenant.name}: the organizer must be a user of the tenant`);
  if (organizer.mailboxLocation !== 'Online') {
    throw conflict(`the mailbox of ${organizer.upn} is on-premises: MMS cannot write to it; schedule the meeting in that mailbox directly`);
  }
  const bridges = await listBridges(tx, tenantId);
  const meetingId = input.meetingId ?? newMeetingId();
  const blockInput = blockInputFor(organizer, tenant, bridges, meetingId);
  const block = renderBlock(blockInput);
  const body = input.body ?? '';
  const html = insertHtmlBlock(`<html><body><div>${escapeHtml(body).replace(/\r?\n/g, '<br>')}</div></body></html>`, block.html);
  const mine = new Set(addressesOf(organizer));
  const others = input.attendees.filter((a) => !mine.has(a));
  const known = new Map<string, User>();
  for (const a of others) {
    const u = await findUser(tx, tenantId, a);
    if (u) known.set(a, u);
  }
  const internal = [...new Map([...known.values()].filter((u) => u.mailboxLocation === 'Online').map((u) => [u.id, u])).values()];
  const uid = input.uid ?? `${randomUUID()}@${tenant.domains[0]}`;
  const ics = buildEvent({
    uid,
    summary: input.subject,
    start: input.start,
    end: input.end,
    timeZone: input.timeZone,
    rrule: input.recurrence,
    organizer: { address: organizer.upn, name: organizer.displayName },
    attendees: others.map((a) => ({ address: a, name: known.get(a)?.displayName })),
    description: insertTextBlock(body, block.text),
    htmlDescription: html,
    location: blockInput.joinUrl,
    conferences: block.conferences,
    xProps: {
      [MEETING_ID_PROPERTY]: meetingId,
      [FINGERPRINT_PROPERTY]: block.fingerprint,
      'X-MICROSOFT-SKYPETEAMSMEETINGURL': blockInput.joinUrl,
    },
    dtstamp: now(),
  });
  const store = new BuiltinMailboxStore(tx, tenantId, now);
  await store.put(organizer.id, ics, { ifVersion: null });
  for (const u of internal) await store.put(u.id, ics);
  return { uid, meetingId, joinUrl: blockInput.joinUrl, internalCopies: internal.length, externalAttendees: others.filter((a) => !known.has(a)).length };
}
