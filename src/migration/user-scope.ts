import { blockFingerprint, isTeamsJoinUrl, locateTextBlock, parseBlock, renderBlock } from '../domain/meeting-block/index.js';
import { indexObject } from '../ical/index.js';
import { meetingIdOf } from '../domain/online-meeting.js';
import { effectiveTimeZone, type Bridge, type Tenant, type User } from '../domain/directory.js';
import { notFound } from '../domain/errors.js';
import type { MeetingType, TargetMeetingType } from '../domain/migration.js';
import type { MeetingFacts } from '../mailbox/index.js';
import { blockInputFor } from '../meetings/index.js';
import type { Db } from '../store/index.js';
import { getTenant, listBridges, userFromRow, usersByAddress } from '../store/directory-repo.js';
import type { Notification } from '../store/outbox-repo.js';
import type { MeetingPlan } from './plan-meeting.js';
import { hasOnlineMeetingBlock, type BlockRenderer } from './rewrite-meeting.js';

/** What happened (or, in a preview, would happen) to one meeting. */
export interface MeetingResult {
  readonly uid: string;
  readonly subject: string;
  readonly start: number | null;
  readonly action: 'Updated' | 'Skipped' | 'Failed' | 'UpToDate';
  readonly reason: string;
  readonly attendeesNotified: number;
  readonly oldBlock?: string;
  readonly newBlock?: string;
}

const MEETING_ID_TOKEN = 'MMSMEETINGIDSTANDIN';

/** One organizer's world for a migration: directory, block renderer, who is internal, From and Sender. */
export interface UserScope {
  readonly tenant: Tenant;
  readonly user: User;
  readonly bridges: readonly Bridge[];
  readonly internal: ReadonlyMap<string, User>;
  readonly render: (o: MeetingFacts) => BlockRenderer;
  /** The type a meeting's new block has (issue 12): Teams when the request converts, else the meeting's own. */
  readonly typeFor: (o: MeetingFacts) => MeetingType;
  readonly from: string;
  readonly sender: string;
}

/**
 * A Teams meeting's own join link — Exchange's X-MICROSOFT-SKYPETEAMSMEETINGURL, else its block's — when it is a
 * Teams link: a Teams meeting that stays one keeps the link Teams made (review of issue 12: re-rendering it on the
 * tenant's TeamsMeetingUrl gave a link that joins nothing). Only SfB meetings converted to Teams get a link of ours.
 */
function ownTeamsLink(o: MeetingFacts): string | null {
  if (o.meetingType !== 'Teams') return null;
  const idx = indexObject(o.ics);
  const prop = idx.xProps['X-MICROSOFT-SKYPETEAMSMEETINGURL']?.trim() || null;
  if (prop && isTeamsJoinUrl(prop)) return prop;
  const at = idx.description ? locateTextBlock(idx.description, prop) : null;
  const fromBlock = at ? parseBlock(idx.description!.slice(at.start, at.end)).joinUrl : null;
  return fromBlock && isTeamsJoinUrl(fromBlock) ? fromBlock : null;
}

/**
 * Reads what migrating `userId`'s meetings needs (tenant, user, bridges, the internal users among the objects'
 * attendees) and builds the per-user block renderer. The engine and the manual tool share it. `target` is the
 * request's target meeting type (meetingTypeScope): `Teams` renders every meeting's block as a Teams block,
 * `Current` renders each in its own type (a meeting of no known type, e.g. a former provider's text, gets SfB).
 */
export async function loadScope(db: Db, tenantId: string, userId: string, objects: readonly MeetingFacts[], serviceAddress?: string, target: TargetMeetingType = 'Current'): Promise<UserScope> {
  const tenant = await getTenant(db.kysely, tenantId);
  if (!tenant) throw notFound(`tenant ${tenantId} no longer exists`);
  const row = await db.kysely.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!row) throw notFound(`user ${userId} no longer exists; nothing to migrate`);
  const user = userFromRow(row);
  const bridges = await listBridges(db.kysely, tenantId);
  const internal = await usersByAddress(db.kysely, tenantId, objects.flatMap((o) => o.attendees));
  // A user's blocks differ only by the meeting id: render once per shared-notes link with a stand-in id and
  // put each meeting's id in (ids of plain letters and digits only, so no escaping can differ).
  const templates = new Map<string, ReturnType<BlockRenderer>>();
  const typeFor = (o: MeetingFacts): MeetingType => (target === 'Teams' ? 'Teams' : o.meetingType ?? 'SfB');
  const render = (o: MeetingFacts): BlockRenderer => (notes) => {
    const id = meetingIdOf(o.onlineMeetingId ?? o.uid);
    const type = typeFor(o);
    const own = type === 'Teams' ? ownTeamsLink(o) : null;
    const full = () => {
      const input = blockInputFor(user, tenant, bridges, id, notes, type, own);
      return { ...renderBlock(input), joinUrl: input.joinUrl };
    };
    if (own || !/^[A-Za-z0-9]+$/.test(id)) return full();
    const key = `${type}\u0000${notes ?? ''}`;
    let tpl = templates.get(key);
    if (!tpl) {
      const input = blockInputFor(user, tenant, bridges, MEETING_ID_TOKEN, notes, type);
      tpl = { ...renderBlock(input), joinUrl: input.joinUrl };
      templates.set(key, tpl);
    }
    const put = (s: string) => s.split(MEETING_ID_TOKEN).join(id);
    const text = put(tpl.text);
    return { text, html: put(tpl.html), conferences: tpl.conferences.map((c) => ({ ...c, uri: put(c.uri) })), fingerprint: blockFingerprint(text), joinUrl: put(tpl.joinUrl) };
  };
  return { tenant, user, bridges, internal, render, typeFor, from: user.upn, sender: serviceAddress || `mms@${tenant.domains[0]}` };
}

/** What the history says about one planned meeting (the engine's ledger and the manual tool print the same). */
export function resultOf(o: MeetingFacts, plan: MeetingPlan, notified = 0): MeetingResult {
  const base = { uid: o.uid, subject: o.summary, start: o.firstStart, attendeesNotified: notified };
  if (plan.action === 'Skipped') return { ...base, action: 'Skipped', reason: `${plan.reason}: ${plan.detail}` };
  if (plan.action === 'UpToDate') return { ...base, action: 'UpToDate', reason: 'the block is already current; not rewritten, nobody notified' };
  const converted = plan.meetingType !== undefined && plan.meetingType !== (plan.meetingTypeBefore ?? 'SfB')
    ? `ConvertedTo${plan.meetingType}: the ${plan.meetingTypeBefore === 'Teams' ? 'Teams' : 'Skype for Business'} block was replaced by a ${plan.meetingType === 'Teams' ? 'Teams block (a Teams join link on the tenant\'s TeamsMeetingUrl' : 'Skype for Business block (a join link on the tenant\'s MeetingUrl'}, the same dial-in details)`
    : null;
  const said = plan.edited ? 'EditedBlockOverwritten: the organizer had edited the block; the old block is kept in the history for undo' : 'BlockReplaced';
  return {
    ...base,
    action: 'Updated',
    reason: (converted ? (plan.edited ? `${converted}; ${said}` : converted) : said) + (plan.note ? `; ${plan.note}` : ''),
    oldBlock: plan.oldBlock,
    newBlock: plan.newBlock,
  };
}

/**
 * Who is told about a changed meeting: every attendee address but the organizer's own. `internal` marks those told
 * through their own copy, updated by MMS (`copied`: by default every internal user with an online mailbox); the
 * rest are sent iMIP.
 */
export function recipientsOf(scope: UserScope, o: MeetingFacts, copied: (u: User) => boolean = (u) => u.mailboxLocation === 'Online'): Notification[] {
  return [...new Set(o.attendees)].flatMap((address) => {
    const u = scope.internal.get(address);
    if (u?.id === scope.user.id) return [];
    return [{ recipient: address, internal: Boolean(u && copied(u)) }];
  });
}

/** What planMeeting needs besides the clock, from a user's scope (the tenant's limits, the renderer, the zone). */
export function planContext(scope: UserScope) {
  return {
    maxAttendees: scope.tenant.settings.maxMeetingAttendees,
    preserveEdited: scope.tenant.settings.preserveEditedBlocks,
    render: scope.render,
    typeFor: scope.typeFor,
    hasBlock: hasOnlineMeetingBlock,
    timeZone: effectiveTimeZone(scope.user, scope.tenant),
  };
}
