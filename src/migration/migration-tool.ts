// The manual tool (Invoke-MmsMeetingMigrationTool): the engine's planning and rewrite applied to an exported
// calendar file, for organizers whose mailbox MMS cannot reach (MailboxLocation OnPremises). It reads and writes
// files only; the database gives the directory (the target block) and gets one audit row.
import { randomUUID } from 'node:crypto';
import { effectiveTimeZone, type User } from '../domain/directory.js';
import { MmsError, usageError } from '../domain/errors.js';
import { imipMail } from '../delivery/imip-mail.js';
import { indexObject, joinCalendar } from '../ical/index.js';
import { factsOf, type MeetingFacts, type StoredObject } from '../mailbox/index.js';
import { addressesOf, readCalendarFile } from '../meetings/index.js';
import { insertAudit } from '../store/audit-repo.js';
import { getTenant, requireUser } from '../store/directory-repo.js';
import type { Db } from '../store/index.js';
import { announce } from './announce.js';
import { loadFormerProviders } from './former-providers.js';
import { loadScope, planContext, recipientsOf, resultOf, type MeetingResult, type UserScope } from './migrate-user.js';
import { planMeeting } from './plan-meeting.js';

/** The cmdlet's name, as the audit row and the on-premises reasons give it. */
export const MIGRATION_TOOL_CMDLET = 'Invoke-MmsMeetingMigrationTool';

/** One RFC 6047 message the admin sends: the bytes SMTP delivery would send for this (meeting, recipient). */
export interface ToolMessage {
  readonly uid: string;
  readonly recipient: string;
  /** A file name unique within the run: `<meeting number>-<recipient>.eml`. */
  readonly fileName: string;
  readonly eml: Buffer;
}

export interface ToolResult {
  readonly correlationId: string;
  /** One per meeting the user organized, in file order, plus one per component the file could not give. */
  readonly results: MeetingResult[];
  /**
   * The rewritten calendar: the input with only the updated meetings' changed components replaced, every other
   * byte as it came (objects the splitter could not take included).
   */
  readonly ics: string;
  readonly messages: ToolMessage[];
  /**
   * False only when an updated component could not be put back in its place in the file, which was then joined
   * again from its objects (see joinCalendar for what that loses): its meetings are all in the output, but not
   * the input's layout.
   */
  readonly layoutKept: boolean;
}

/** The organizer the tool runs for: an unknown one is a mistake on the command line (exit 2). */
export async function toolUser(db: Db, tenantId: string, identity: string): Promise<User> {
  try {
    return await requireUser(db.kysely, tenantId, identity);
  } catch (err) {
    if (err instanceof MmsError && err.code === 'NotFound') throw usageError(err.message);
    throw err;
  }
}

/** A StoredObject for a file's object, indexed as the built-in store indexes it (floating times in the organizer's zone). */
function objectOf(ics: string, n: number, user: User, timeZone: string): StoredObject {
  let ix = indexObject(ics);
  if (ix.floatingZone !== null && ix.floatingZone !== timeZone) ix = indexObject(ics, { timeZone });
  return { ...factsOf(ix, ics), id: n, tenantId: user.tenantId, mailboxUserId: user.id, version: 1 };
}

/** An object whose times or attendees cannot be read: nobody's meeting the tool can judge, written out as it came. */
function unreadable(uid: string, ics: string, n: number, user: User): StoredObject {
  return {
    id: n, tenantId: user.tenantId, mailboxUserId: user.id, uid, ics, organizer: null, firstStart: null, lastEnd: null, attendeeCount: 0, attendees: [],
    onlineMeetingId: null, meetingType: null, summary: '', version: 1, floatingZone: null, unknownZones: [], zonesDerived: true,
  };
}

// A VEVENT of a stored object, BEGIN line to END line: a rewrite changes lines inside VEVENTs only (editEvents).
const VEVENT = /^BEGIN:VEVENT\r?\n[\s\S]*?^END:VEVENT(?:\r?\n|$)/gim;

/**
 * The file with each rewritten object's changed VEVENTs put in place of the same VEVENTs in the file, so every
 * other byte — objects the splitter could not take, unused VTIMEZONEs, lines outside VCALENDAR — comes out as it
 * came in. Each VEVENT of an object is a run of the file's own lines (splitCalendar copies raw lines); the first
 * occurrence at a line start is the one the splitter kept. Null when one cannot be found (then the file is joined
 * again from its objects).
 */
function splice(text: string, changes: ReadonlyArray<{ before: string; after: string }>): string | null {
  const edits: Array<{ at: number; length: number; by: string }> = [];
  if (!changes.length) return text;
  // Where each VEVENT of the file begins, found in one pass (a scan per updated meeting would be quadratic).
  const starts = new Map<string, number>();
  for (const m of text.matchAll(VEVENT)) if (!starts.has(m[0])) starts.set(m[0], m.index);
  for (const { before, after } of changes) {
    const old = before.match(VEVENT) ?? [];
    const now = after.match(VEVENT) ?? [];
    if (!old.length || old.length !== now.length) return null;
    for (const [i, component] of old.entries()) {
      if (component === now[i]) continue;
      // A VEVENT the one pass ran past (one before it lacks its END line) is looked for on its own.
      let at = starts.get(component) ?? text.indexOf(component);
      while (at > 0 && text[at - 1] !== '\n') at = text.indexOf(component, at + 1);
      if (at < 0) return null;
      edits.push({ at, length: component.length, by: now[i] as string });
    }
  }
  const pieces: string[] = [];
  let from = 0;
  for (const e of edits.sort((a, b) => a.at - b.at)) {
    pieces.push(text.slice(from, e.at), e.by);
    from = e.at + e.length;
  }
  pieces.push(text.slice(from));
  return pieces.join('');
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9@._-]+/g, '_').slice(0, 100);

/**
 * The RFC 6047 messages that tell the attendees of the `k`-th meeting about its new text. Nobody's copy is updated
 * by the tool: internal attendees are told by mail like everyone else.
 */
export async function toolMessages(scope: UserScope, o: MeetingFacts, ics: string, k: number, correlationId: string, now: number): Promise<ToolMessage[]> {
  const everyone = recipientsOf(scope, o).map((r) => ({ ...r, internal: false }));
  const told = announce(ics, everyone, { tenantId: scope.tenant.id, correlationId, organizerId: scope.user.id, uid: o.uid, subject: o.summary, from: scope.from, sender: scope.sender, now });
  const out: ToolMessage[] = [];
  for (const r of told.recipients) {
    const m = told.messages.find((x) => x.variant === r.variant);
    if (!m) continue;
    const mail = imipMail({ correlationId, uid: o.uid, recipient: r.recipient, from: m.from, sender: m.sender, subject: m.subject, ics: m.ics, language: scope.user.preferredLanguage }, new Date(now));
    out.push({ uid: o.uid, recipient: r.recipient, fileName: `${String(k + 1).padStart(3, '0')}-${slug(r.recipient)}.eml`, eml: mail.raw });
  }
  return out;
}

/**
 * Plans and rewrites the meetings `identity` organized in an exported calendar (`bytes`), exactly as a
 * migration of their mailbox would: same skips and reasons, same block, same iTIP texts. Every attendee is told
 * by mail — the tool updates no one's copy — so each external and internal attendee gets the engine's iTIP
 * REQUEST (one per recipient, grouped as announce groups them) wrapped as SMTP delivery wraps it. Objects the
 * user did not organize, the ones not updated and the ones the splitter could not parse (each reported as a
 * Skipped line) come out byte for byte. A meeting that carries the dial-in text of a third-party provider the
 * user was on before (from the audit trail, see loadFormerProviders) gets that text replaced by the block. With
 * `preview` it only plans (and builds no messages).
 *
 * @throws MmsError('Usage') when the user is unknown, and MmsError('Invalid') naming `source` when the file is
 *   not iCalendar.
 */
export async function runMigrationTool(
  db: Db,
  tenantId: string,
  identity: string,
  bytes: Uint8Array,
  opts: { now: () => number; serviceAddress?: string; preview?: boolean; source?: string },
): Promise<ToolResult> {
  const source = opts.source ?? 'the calendar file';
  const user = await toolUser(db, tenantId, identity);
  const { text, split: { objects, problems } } = readCalendarFile(bytes, source);
  const tenant = await getTenant(db.kysely, tenantId);
  if (!tenant) throw usageError(`tenant ${tenantId} no longer exists; give -Tenant an existing tenant`);
  const timeZone = effectiveTimeZone(user, tenant);
  const mine = new Set(addressesOf(user).map((a) => a.toLowerCase()));
  const results: MeetingResult[] = problems.map((p) => ({
    uid: p.uid ?? '', subject: '', start: null, action: 'Skipped', reason: `Unparseable: ${p.message}; written to the output file unchanged`, attendeesNotified: 0,
  }));
  const all: StoredObject[] = [];
  for (const [n, o] of objects.entries()) {
    try {
      all.push(objectOf(o.ics, n, user, timeZone));
    } catch (err) {
      if (!(err instanceof MmsError)) throw err;
      // Not indexable: it is nobody's meeting we can judge; it goes out as it came in.
      all.push(unreadable(o.uid, o.ics, n, user));
    }
  }
  const organized = all.filter((o) => o.organizer !== null && mine.has(o.organizer));
  const scope = await loadScope(db, tenantId, user.id, organized, opts.serviceAddress);
  const ctx = { ...planContext(scope), formerProviderBlocks: await loadFormerProviders(db, scope.user) };
  const correlationId = randomUUID();
  const now = opts.now();
  const out = new Map<number, string>();
  const messages: ToolMessage[] = [];
  for (const [k, o] of organized.entries()) {
    const plan = planMeeting(o, { ...ctx, now });
    if (plan === null) continue;
    if (plan.action !== 'Update' || opts.preview) {
      results.push(resultOf(o, plan));
      continue;
    }
    out.set(o.id, plan.ics);
    const mine = await toolMessages(scope, o, plan.ics, k, correlationId, now);
    messages.push(...mine);
    results.push(resultOf(o, plan, new Set(mine.map((m) => m.recipient)).size));
  }
  const spliced = splice(text, all.flatMap((o) => {
    const ics = out.get(o.id);
    return ics === undefined ? [] : [{ before: o.ics, after: ics }];
  }));
  if (spliced !== null) return { correlationId, results, ics: spliced, messages, layoutKept: true };
  const ics = objects.length ? joinCalendar(all.map((o) => out.get(o.id) ?? o.ics)) : text;
  const layoutKept = !objects.length || joinCalendar(objects.map((o) => o.ics)) === text;
  return { correlationId, results, ics, messages, layoutKept };
}

/** The audit row of a run: who ran the tool on whose file, and what it did (the calendars in the database are not touched). */
export async function auditMigrationTool(db: Db, tenantId: string, identity: string, r: ToolResult, e: { actor: string; now: number; input: string; output: string }): Promise<void> {
  const user = await requireUser(db.kysely, tenantId, identity);
  const n = (a: MeetingResult['action']) => r.results.filter((x) => x.action === a).length;
  await insertAudit(db.kysely, {
    tenantId, at: e.now, actor: e.actor, cmdlet: MIGRATION_TOOL_CMDLET, userId: user.id, target: user.upn, changes: {}, decision: 'None', correlationId: r.correlationId,
    reason: `manual migration of ${e.input} into ${e.output}: ${n('Updated')} updated, ${n('UpToDate')} up to date, ${n('Skipped')} skipped, ${r.messages.length} messages written`,
  });
}
