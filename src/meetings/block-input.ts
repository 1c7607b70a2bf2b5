import type { Bridge, Tenant, User } from '../domain/directory.js';
import { teamsJoinUrl, type BlockInput } from '../domain/meeting-block/index.js';
import type { MeetingType } from '../domain/migration.js';
import { meetingTarget } from '../domain/meeting-target.js';

// Directory text is typed by admins (and older versions stored it unchecked): a line break or control character in
// a city label or provider name would make the block unrenderable, so it is shown as a space instead.
const oneLine = (value: string): string => value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/gu, ' ');

// A tenant URL may hold characters a link cannot (a space in a path): percent-encode them rather than fail.
const linkSafe = (url: string): string => url.replace(/[\s<>"\u0000-\u001f\u007f]/gu, (c) => encodeURIComponent(c));

/** An optional directory link that is not an absolute http(s) URL is left out of the block, not allowed to break it. */
function optionalLink(url: string | null | undefined): string | null {
  if (!url) return null;
  const safe = linkSafe(url.trim());
  if (!/^https?:\/\/[^/?#]/i.test(safe)) return null;
  try {
    new URL(safe);
    return safe;
  } catch {
    return null;
  }
}

/**
 * The block a user's meeting must carry now: join link from where the user is homed, dial-in numbers of the
 * serving bridge (or the ACP's), conference ID, in the user's preferred language. Optional directory values that
 * are empty stay out of the block (a number without a city label is named by its country when rendered).
 * A `Teams` block (issue 12) joins on the tenant's TeamsMeetingUrl wherever the user is homed (Teams meetings are
 * online) and keeps the same dial-in details.
 */
export function blockInputFor(
  user: User, tenant: Tenant, bridges: readonly Bridge[], meetingId: string, sharedNotesUrl?: string | null, meetingType: MeetingType = 'SfB',
  /** A Teams meeting's own join link, kept (user-scope.ts): it joins the meeting Teams made; one of ours would not. */
  ownTeamsLink?: string | null,
): BlockInput {
  const target = meetingTarget(user, tenant, bridges);
  const base = user.hostedOn === 'Online' ? tenant.meetingUrl : tenant.onPremisesMeetingUrl;
  const d = target.dialIn;
  const number = (n: { number: string; label: string } | null) => n && { number: n.number, label: oneLine(n.label) };
  return {
    language: user.preferredLanguage,
    meetingId,
    joinUrl: linkSafe(meetingType === 'Teams' ? ownTeamsLink ?? teamsJoinUrl(tenant.teamsMeetingUrl, meetingId, tenant.id, user.id) : `${target.joinUrlBase}/${meetingId}`),
    sharedNotesUrl: optionalLink(sharedNotesUrl),
    dialIn: d && {
      provider: d.provider,
      providerName: d.providerName === null ? null : oneLine(d.providerName),
      toll: number(d.toll),
      tollFree: number(d.tollFree),
      conferenceId: d.conferenceId,
      localNumbersUrl: d.provider === 'ThirdParty' ? optionalLink(user.acp?.url) : optionalLink(`${base.replace(/\/+$/, '')}/dialin`),
    },
    ...(meetingType === 'Teams' ? { meetingType } : {}),
  };
}
