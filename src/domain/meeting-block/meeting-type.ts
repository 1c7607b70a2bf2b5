/**
 * Which kind of online meeting a calendar object is (issue 12 §1): a Skype for Business meeting or a Teams meeting.
 * Read from what the object itself says — the join link of its block, Exchange's metadata, the block's heading —
 * so the built-in store, CalDAV and an import all answer the same for the same text.
 */
import type { MeetingType } from '../migration.js';
import { MEETING_ID_PROPERTY } from '../online-meeting.js';
import { locateTextBlock } from './locate-text.js';
import { parseBlock } from './parse-block.js';
import { TEAMS_HEADING_PATTERNS } from './recognise.js';

// Teams join links: work (commercial and government clouds), consumer, the short /meet/<digits> form, and any link
// that names a Teams meeting thread (`19:meeting_<id>@thread.v2`, percent-encoded or not) — which is how our own
// Teams-style links (built on the tenant's TeamsMeetingUrl, whatever host it names) are recognised too.
const TEAMS_URL: readonly RegExp[] = [
  /^https?:\/\/(?:[a-z0-9-]+\.)?teams\.microsoft\.(?:com|us)\/l\/meetup-join\//i,
  /^https?:\/\/(?:[a-z0-9-]+\.)?teams\.microsoft\.(?:com|us)\/meet\/\d/i,
  /^https?:\/\/teams\.live\.com\/meet\//i,
  /^https?:\/\/[^\s]*\/19(?::|%3a)meeting_[^\s/]+?(?:@|%40)thread\.(?:v2|skype)(?:[/?#]|$)/i,
];
// Exchange's conference URI of a Teams meeting: `conf:sip:…;opaque=app:conf:focus:id:teams:2:0!19:meeting_…`.
const TEAMS_CONF_LINK = /;opaque=app:conf:focus:id:teams:/i;
const SKYPE_CONF_LINK = /^(?:conf:)?sip:/i;

/** True for a link that joins a Teams meeting (Microsoft's or our Teams-style link on the tenant's TeamsMeetingUrl). */
export function isTeamsJoinUrl(url: string): boolean {
  const u = url.trim();
  return TEAMS_URL.some((re) => re.test(u));
}

/** The type a join link stands for: Teams for a Teams link, SfB for any other meeting link; null for a non-link. */
export function meetingTypeOfUrl(url: string | null | undefined): MeetingType | null {
  const u = url?.trim() ?? '';
  if (!/^https?:\/\//i.test(u)) return null;
  return isTeamsJoinUrl(u) ? 'Teams' : 'SfB';
}

/** What the recogniser reads of one object (its master component): decoded values. */
export interface MeetingTypeSignals {
  /** X- properties by upper-case name (X-MICROSOFT-SKYPETEAMSMEETINGURL, X-MICROSOFT-ONLINEMEETINGCONFLINK, X-MMS-…). */
  readonly xProps: Readonly<Record<string, string>>;
  /** DESCRIPTION, decoded; null when there is none. */
  readonly description: string | null;
}

/**
 * The object's meeting type, or null when it is no online meeting (no block, no metadata). In order:
 * 1. the join link of the block in DESCRIPTION (what attendees click, and what a migration rewrites);
 * 2. Exchange's X-MICROSOFT-SKYPETEAMSMEETINGURL (a Teams link or a Skype one);
 * 3. Exchange's X-MICROSOFT-ONLINEMEETINGCONFLINK (`…focus:id:teams:…` is Teams, any other `sip:` conference is Skype);
 * 4. a Teams heading in the block;
 * 5. any other block or online-meeting metadata: SfB — the Skype for Business block is what MMS and the Skype
 *    add-in have always written, and a meeting URL that is not a Teams one (meet.lync.com, the tenant's simple
 *    URL `https://meet.contoso.com/user/ID`, a custom one) is a Skype meeting.
 */
export function meetingTypeOf(s: MeetingTypeSignals): MeetingType | null {
  const linkProp = s.xProps['X-MICROSOFT-SKYPETEAMSMEETINGURL']?.trim() || null;
  const confLink = s.xProps['X-MICROSOFT-ONLINEMEETINGCONFLINK']?.trim() || null;
  const ours = s.xProps[MEETING_ID_PROPERTY]?.trim() || null;
  let block: string | null = null;
  if (s.description) {
    const at = locateTextBlock(s.description, linkProp);
    if (at) block = s.description.slice(at.start, at.end);
  }
  const byBlock = block === null ? null : meetingTypeOfUrl(parseBlock(block).joinUrl);
  if (byBlock) return byBlock;
  const byProp = meetingTypeOfUrl(linkProp);
  if (byProp) return byProp;
  if (confLink && TEAMS_CONF_LINK.test(confLink)) return 'Teams';
  if (confLink && SKYPE_CONF_LINK.test(confLink)) return 'SfB';
  if (block !== null && TEAMS_HEADING_PATTERNS.some((re) => re.test(block))) return 'Teams';
  return block !== null || ours || linkProp || confLink ? 'SfB' : null;
}

/**
 * Our Teams-style join link for a meeting id: `<TeamsMeetingUrl>/19%3ameeting_<id>%40thread.v2/0?context=…` with
 * the tenant and organizer in the context, the shape Teams' own links have. The meeting id stays readable in it
 * (meetingIdOf gives it back), so converting a meeting again, or migrating a converted one, keeps its id.
 */
export function teamsJoinUrl(teamsMeetingUrl: string, meetingId: string, tenantId: string, organizerId: string): string {
  const context = encodeURIComponent(JSON.stringify({ Tid: tenantId, Oid: organizerId })).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
  return `${teamsMeetingUrl.trim().replace(/\/+$/, '')}/19%3ameeting_${meetingId}%40thread.v2/0?context=${context}`;
}
