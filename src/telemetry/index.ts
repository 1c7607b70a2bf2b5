// Client telemetry (issue 11): the switches, the pseudonyms and the ingestion of census, usage and error events.
export { Pseudonyms, parseTelemetryKey, sha256Hex, telemetryKeyFileFor, telemetryKeyProblem, type PseudonymContext } from './keys.js';
export { addressBucket, normalizeSipUri, normalizeUserId, truncateIp } from './privacy.js';
export { IngestPool } from './ingest-pool.js';
export { CensusEvent, ErrorEvent, UsageEvent, batchBody, envelopeProblem, EVENT_SCHEMAS, loadEventValidators, MAX_EVENTS_PER_BATCH, MEETING_UX_APPS, TELEMETRY_KINDS, isMeetingUxApp, type TelemetryKind } from './events.js';
export { clientTelemetryConfig, meetingUxEnabled, type ClientTelemetryConfig } from './client-config.js';
export { BatchBodyError, ingestBatch, type EventResult, type IngestContext, type IngestOutcome, type RefusalReason } from './ingest.js';
export { DEFAULT_TELEMETRY_RATES, RateLimiter, TelemetryLimiters } from './rate-limit.js';
export {
  DEFAULT_TELEMETRY_CONFIGURATION, MIN_GROUP_SIZE_RANGE, RETENTION_DAYS_RANGE, configurationFromRow, getTelemetryConfiguration, getUserTelemetry,
  getWebServiceConfigurations, newIngestionKey, setTelemetryConfiguration, setUserTelemetry, setWebServiceConfiguration, tenantOfIngestionKey,
  type TelemetryChangeContext, type TelemetryConfiguration, type TelemetryConfigurationChange, type WebServiceConfiguration,
} from './settings.js';
export { pruneTelemetry, type TelemetryPruned, type TelemetrySettingsRow } from '../store/telemetry-repo.js';
