// The events as the SDK's callers write them and as they travel, written out by hand rather than imported from
// ../events.ts: that module builds its schemas with TypeBox and checks events with Ajv, which a browser bundle of the SDK must not carry,
// and the package's type declarations must stand on their own. test/telemetry-sdk.test.ts checks at compile time
// that each of these is assignable to the server's schema type, so the two cannot drift apart unnoticed.

export type TelemetryKind = 'census' | 'usage' | 'error';

/** Filled in by the client on every event. */
export interface CommonFields {
  Time?: string;
  AppName: string;
  AppVersion: string;
  DeviceId: string;
}

/** What a caller gives for a census event; the client adds the hashed UserId and the common fields. */
export interface CensusInfo {
  DeviceModel: string;
  OsName: string;
  OsVersion: string;
  UserLanguage: string;
  SignInAttempts?: number;
  SignInFailures?: number;
}

export interface CensusEvent extends CommonFields, Required<CensusInfo> {
  /** SHA-256 (hex) of the normalized user id: the plain id never leaves the client in census. */
  UserId: string;
}

export interface UsageCounts {
  Pool?: string;
  CallsMade?: number;
  ImSent?: number;
  ImReceived?: number;
  MeetingJoinAttempts?: number;
  MeetingJoinSuccesses?: number;
  CallMinutes?: number;
  MeetingMinutes?: number;
  StabilityIssues?: number;
  /** Feature (a cmdlet, a page) → times used. */
  FeaturesUsed?: Record<string, number>;
  FederationPartner?: string;
}

export interface UsageEvent extends CommonFields, UsageCounts {}

export interface ErrorInfo {
  Pool?: string;
  SipUri?: string;
  IpAddress?: string;
  ErrorCode: string;
  Message?: string;
  Exception?: string;
  Log?: string;
  MessageDirection?: 'Incoming' | 'Outgoing';
  ConversationState?: string;
  ConversationThreadId?: string;
  DeviceConfiguration?: Record<string, string>;
  NetworkQuality?: Record<string, number | string>;
}

export interface ErrorEvent extends CommonFields, ErrorInfo {
  /** The user id in clear, as the reference documents for error reports (MMS keys it before storing). */
  UserId?: string;
}

export type TelemetryEvent = CensusEvent | UsageEvent | ErrorEvent;

/** An event waiting to be sent, with its kind: what close() hands back and `pending` takes, to keep across runs. */
export interface PendingEvent {
  readonly kind: TelemetryKind;
  readonly event: TelemetryEvent;
}

/** POST /telemetry/v1/config (the user's hash in the body): what this client may send. */
export interface ClientConfig {
  readonly Census: boolean;
  readonly Usage: boolean;
  readonly ErrorReporting: boolean;
  readonly MeetingUxEnableTelemetry?: boolean;
  readonly MaxEventsPerBatch: number;
}
