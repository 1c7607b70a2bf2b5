import type { Bridge, Tenant, User } from '../domain/directory.js';
import type { BlockInput } from '../domain/meeting-block/index.js';
import { meetingTarget } from '../domain/meeting-target.js';

/**
 * The block a user's meeting must carry now: join link from where the user is homed, dial-in numbers of the
 * serving bridge (or the ACP's), conference ID, in the user's preferred language.
 */
export function blockInputFor(user: User, tenant: Tenant, bridges: readonly Bridge[], meetingId: string, sharedNotesUrl?: string | null): BlockInput {
  const target = meetingTarget(user, tenant, bridges);
  const base = user.hostedOn === 'Online' ? tenant.meetingUrl : tenant.onPremisesMeetingUrl;
  const d = target.dialIn;
  return {
    language: user.preferredLanguage,
    meetingId,
    joinUrl: `${target.joinUrlBase}/${meetingId}`,
    sharedNotesUrl: sharedNotesUrl ?? null,
    dialIn: d && {
      provider: d.provider,
      providerName: d.providerName,
      toll: d.toll,
      tollFree: d.tollFree,
      conferenceId: d.conferenceId,
      localNumbersUrl: d.provider === 'ThirdParty' ? user.acp?.url ?? null : `${base.replace(/\/+$/, '')}/dialin`,
    },
  };
}
