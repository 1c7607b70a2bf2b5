// meeting-migration-service/telemetry: the client SDK for MMS's telemetry ingestion (issue 11 §4). Runs in Node 20
// and in browsers (fetch, Web Crypto); nothing of the server is in it.
export { TelemetryClient, type TelemetryClientOptions, type TelemetryStats } from './client.js';
export type { FetchLike, RequestLike, ResponseLike } from './transport.js';
export { fileDeviceId, hashUserId, localStorageDeviceId, normalizeUserId, type DeviceIdStore } from './identity.js';
export type { CensusEvent, CensusInfo, ClientConfig, ErrorEvent, ErrorInfo, PendingEvent, TelemetryEvent, TelemetryKind, UsageCounts, UsageEvent } from './events.js';
