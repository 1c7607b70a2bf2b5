// GET /telemetry/v1/config (issue 11 §3): what a client may send, so that it sends nothing that would be refused.
// The same rules as ingest.ts, asked ahead of time.
import type { Db } from '../store/index.js';
import { getOptIn, webServicesNamed, type TelemetrySettingsRow } from '../store/telemetry-repo.js';
import { isMeetingUxApp, MAX_EVENTS_PER_BATCH } from './events.js';
import type { Pseudonyms } from './keys.js';

export interface ClientTelemetryConfig {
  readonly Census: true;
  readonly Usage: boolean;
  readonly ErrorReporting: boolean;
  readonly MeetingUxEnableTelemetry?: boolean;
  readonly MaxEventsPerBatch: number;
}

/** A pool's MeetingUxEnableTelemetry: its own setting, else Global's, else false (the default). */
export async function meetingUxEnabled(db: Db, tenantId: string, pool: string): Promise<boolean> {
  const rows = await webServicesNamed(db.kysely, tenantId, [`service:webserver:${pool.toLowerCase()}`, 'global']);
  return (rows.find((r) => r.identity !== 'global') ?? rows[0])?.meeting_ux_enable_telemetry === 1;
}

/**
 * The switches as they apply to one client: `userSha256` is the SHA-256 (hex) of the normalized user id, as census
 * events carry it (a user id never travels in a URL).
 */
export async function clientTelemetryConfig(
  db: Db, pseudonyms: Pseudonyms, tenant: TelemetrySettingsRow, q: { appName?: string; pool?: string; userSha256?: string },
): Promise<ClientTelemetryConfig> {
  const on = tenant.disable_automatic_send_tracing !== 1;
  const meetingUx = q.pool === undefined ? undefined : await meetingUxEnabled(db, tenant.tenant_id, q.pool);
  const ux = q.appName !== undefined && isMeetingUxApp(q.appName);
  let errorReporting = false;
  if (on && ux) errorReporting = meetingUx === true;
  else if (on && q.userSha256 !== undefined) {
    errorReporting = (await getOptIn(db.kysely, tenant.tenant_id, pseudonyms.optInKey(tenant.tenant_id, q.userSha256.toLowerCase()))) === true;
  }
  return {
    Census: true,
    Usage: on && (!ux || meetingUx === true),
    ErrorReporting: errorReporting,
    ...(meetingUx !== undefined ? { MeetingUxEnableTelemetry: meetingUx } : {}),
    MaxEventsPerBatch: MAX_EVENTS_PER_BATCH,
  };
}
