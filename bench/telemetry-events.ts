// Realistic client telemetry for the ingestion bench (bench/telemetry.ts): request bodies of 100 events each, built
// once before the clock starts, so the load process spends its time sending, not making JSON. Every event has a
// DeviceId of its own among 20,000 (a fleet of devices, each far under its per-minute allowance); error reports
// name users who opted in and carry the free text real clients send (a log, an exception, with addresses in it).
import { createHash, randomUUID } from 'node:crypto';

export const BATCH = 100;
/** Bodies per kind: 200 × 100 events, each device seen once per 200 requests. */
const BODIES = 200;
export const OPTED_IN_USERS = 200;
export const benchUser = (i: number): string => `user${i}@contoso.com`;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const APPS = ['SkypeDesktop', 'iPhoneSkype', 'AndroidLync', 'MacLync', 'mms-cli'] as const;
const OS = [['Windows', '10.0.19045'], ['iPhoneiOS', '17.4'], ['Android', '14'], ['macOS', '14.4'], ['Linux', '6.8']] as const;
const LANGS = ['EN-US', 'DE-DE', 'FR-FR', 'JA-JP', 'NL-NL'] as const;

function census(i: number, device: string) {
  const k = i % 5;
  return {
    Time: new Date(Date.UTC(2026, 10, 30, 12) + i * 1000).toISOString(), AppName: APPS[k], AppVersion: `16.0.${1000 + (i % 37)}`, DeviceId: device,
    DeviceModel: ['Surface Pro 9', 'iPhone15,2', 'Pixel 8', 'MacBookPro18,3', 'ThinkPad X1'][k], OsName: OS[k]![0], OsVersion: OS[k]![1],
    UserLanguage: LANGS[k], UserId: sha(benchUser(i % 5000)), SignInAttempts: 1 + (i % 4), SignInFailures: i % 7 === 0 ? 1 : 0,
  };
}

function usage(i: number, device: string) {
  return {
    Time: new Date(Date.UTC(2026, 10, 30, 12) + i * 1000).toISOString(), AppName: APPS[i % 5], AppVersion: `16.0.${1000 + (i % 37)}`, DeviceId: device,
    CallsMade: i % 9, ImSent: 10 + (i % 50), ImReceived: 12 + (i % 40), MeetingJoinAttempts: i % 4, MeetingJoinSuccesses: i % 4, CallMinutes: i % 120,
    MeetingMinutes: (i * 7) % 240, StabilityIssues: i % 50 === 0 ? 1 : 0,
    FeaturesUsed: { 'Get-CsOnlineUser': 1 + (i % 3), 'Start-MmsMigration': i % 2, 'page.dashboard': 3, 'page.users': 1 + (i % 5), ScreenShare: i % 4 },
    ...(i % 3 === 0 ? { FederationPartner: 'fabrikam.com' } : {}),
  };
}

function error(i: number, device: string) {
  const user = benchUser(i % OPTED_IN_USERS);
  const peer = `peer${i % 997}@fabrikam.com`;
  const ip = `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`;
  return {
    Time: new Date(Date.UTC(2026, 10, 30, 12) + i * 1000).toISOString(), AppName: 'SkypeDesktop', AppVersion: `16.0.${1000 + (i % 37)}`, DeviceId: device,
    UserId: user, SipUri: `sip:${user}`, IpAddress: ip, ErrorCode: `0x8007${(i % 4096).toString(16).padStart(4, '0')}`,
    Message: `Call to ${peer} failed: media negotiation timed out`,
    Exception: `SipException: 408 Request Timeout\n   at Lync.Signaling.Invite(${peer})\n   at Lync.Call.Start()\n   at Lync.Ui.CallButton.OnClick()`,
    Log: Array.from({ length: 6 }, (_, n) => `2026-11-30T12:00:0${n}Z INFO signaling: INVITE sip:${peer} via 192.0.2.${(i + n) & 255}:5061 cseq=${i + n} state=${['Idle', 'Ringing', 'Connecting'][n % 3]}`).join('\n'),
    MessageDirection: i % 2 ? 'Incoming' : 'Outgoing', ConversationState: 'Connecting', ConversationThreadId: `AdDO8hsJqilU93hQHC3OZ${(i % 10_000).toString().padStart(5, '0')}==`,
    DeviceConfiguration: { Microphone: 'Jabra Evolve2 65', Camera: 'Integrated', Network: i % 2 ? 'Wi-Fi' : 'Ethernet' },
    NetworkQuality: { JitterMs: 12 + (i % 30), PacketLossPct: (i % 10) / 10, RttMs: 40 + (i % 90) },
  };
}

const MAKERS = { census, usage, error } as const;
export type BenchKind = keyof typeof MAKERS;
export const BENCH_KINDS: readonly BenchKind[] = ['census', 'usage', 'error'];

/** BODIES request bodies of BATCH events of `kind`, as the bytes a client sends. */
export function bodies(kind: BenchKind): Buffer[] {
  const devices = Array.from({ length: BODIES * BATCH }, () => randomUUID().toUpperCase());
  return Array.from({ length: BODIES }, (_, b) => Buffer.from(JSON.stringify({
    Events: Array.from({ length: BATCH }, (_, k) => MAKERS[kind](b * BATCH + k, devices[b * BATCH + k]!)),
  })));
}
