import type { Bridge, Tenant, User } from './directory.js';

/** What a user's online meeting block must show, apart from the per-meeting id: derived from the directory only. */
export interface MeetingTarget {
  /** Join links are `${joinUrlBase}/${meetingId}`. */
  readonly joinUrlBase: string;
  readonly dialIn: TargetDialIn | null;
}

export interface TargetDialIn {
  readonly provider: 'Microsoft' | 'ThirdParty';
  readonly providerName: string | null;
  readonly bridgeId: string | null;
  readonly bridgeName: string | null;
  readonly toll: { readonly number: string; readonly label: string } | null;
  readonly tollFree: { readonly number: string; readonly label: string } | null;
  /** The conference ID, or the ACP's participant passcode. */
  readonly conferenceId: string;
}

/** The SIP user part: join links carry it, as Skype meeting URLs do (`https://meet.contoso.com/ashaw/…`). */
export function sipUser(sipAddress: string): string {
  return sipAddress.replace(/^sip:/i, '').split('@')[0] ?? sipAddress;
}

/** The bridge that serves a user's dial-in, or null when the user has no built-in audio conferencing. */
export function servingBridge(user: User, tenant: Tenant, bridges: readonly Bridge[]): Bridge | null {
  if (user.acProvider === 'ThirdParty') return null;
  if (user.hostedOn === 'OnPremises') return bridges.find((b) => b.onPremises) ?? null;
  if (user.acProvider !== 'Microsoft' || !user.acEnabled || !user.licenses.includes('AudioConferencing')) return null;
  const own = user.bridgeId ? bridges.find((b) => b.id === user.bridgeId && !b.onPremises) : undefined;
  return own ?? bridges.find((b) => b.isDefault && !b.onPremises) ?? null;
}

/** The user's own number if the bridge still has it, else the bridge's default, with its label. */
function labelled(bridge: Bridge, own: string | null, fallback: string | null): TargetDialIn['toll'] {
  for (const number of [own, fallback]) {
    const n = number ? bridge.numbers.find((x) => x.number === number) : undefined;
    if (n) return { number: n.number, label: n.city };
  }
  return null;
}

/**
 * Where the user is homed decides the join link; the provider, licence, enabled state, bridge and numbers decide
 * the dial-in part. A user homed on-premises dials in on the on-premises bridge; online, the built-in provider
 * needs the licence and audio conferencing enabled; a third-party provider shows its own numbers and passcode.
 */
export function meetingTarget(user: User, tenant: Tenant, bridges: readonly Bridge[]): MeetingTarget {
  const base = user.hostedOn === 'Online' ? tenant.meetingUrl : tenant.onPremisesMeetingUrl;
  const joinUrlBase = `${base.replace(/\/+$/, '')}/${encodeURIComponent(sipUser(user.sipAddress))}`;
  if (user.acProvider === 'ThirdParty' && user.acp) {
    const acp = user.acp;
    return {
      joinUrlBase,
      dialIn: {
        provider: 'ThirdParty',
        providerName: acp.name,
        bridgeId: null,
        bridgeName: null,
        toll: { number: acp.tollNumber, label: acp.name },
        tollFree: acp.tollFreeNumber ? { number: acp.tollFreeNumber, label: acp.name } : null,
        conferenceId: acp.participantPasscode,
      },
    };
  }
  const bridge = servingBridge(user, tenant, bridges);
  if (!bridge) return { joinUrlBase, dialIn: null };
  const own = !bridge.onPremises;
  return {
    joinUrlBase,
    dialIn: {
      provider: 'Microsoft',
      providerName: null,
      bridgeId: bridge.id,
      bridgeName: bridge.name,
      toll: labelled(bridge, own ? user.tollNumber : null, bridge.defaultTollNumber),
      tollFree: labelled(bridge, own ? user.tollFreeNumber : null, bridge.defaultTollFreeNumber),
      conferenceId: user.conferenceId,
    },
  };
}

/** True when two targets render the same block. */
export function sameTarget(a: MeetingTarget, b: MeetingTarget): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
