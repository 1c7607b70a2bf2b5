import type { Cmdlet } from '../cmdlet.js';
import { TENANT_CMDLETS } from './tenant-cmdlets.js';
import { USER_CMDLETS } from './user-cmdlets.js';
import { TEAMS_UPGRADE_CMDLETS } from './teams-upgrade-cmdlets.js';
import { MEETING_CMDLETS } from './meeting-cmdlets.js';
import { MIGRATION_CMDLETS } from './migration-cmdlets.js';
import { DEMO_CMDLETS } from './demo-cmdlets.js';
import { OUTBOX_CMDLETS } from './outbox-cmdlets.js';
import { RATE_CMDLETS } from './rate-cmdlets.js';
import { MAILBOX_HOST_CMDLETS } from './mailbox-host-cmdlets.js';
import { MIGRATION_TOOL_CMDLETS } from './migration-tool-cmdlets.js';
import { API_TOKEN_CMDLETS } from './api-token-cmdlets.js';
import { ADMIN_ACCOUNT_CMDLETS } from './admin-account-cmdlets.js';
import { TELEMETRY_CMDLETS } from './telemetry-cmdlets.js';
import { TELEMETRY_REPORT_CMDLETS } from './telemetry-report-cmdlets.js';

/** Every `mms` cmdlet, in the order `mms help` lists them (the outbox's two beside each other, after the migrations that fill it). */
export const CMDLETS: Cmdlet[] = [...TENANT_CMDLETS, ...USER_CMDLETS, ...TEAMS_UPGRADE_CMDLETS, ...MEETING_CMDLETS, ...MIGRATION_CMDLETS, ...RATE_CMDLETS, ...OUTBOX_CMDLETS, ...MIGRATION_TOOL_CMDLETS, ...MAILBOX_HOST_CMDLETS, ...API_TOKEN_CMDLETS, ...ADMIN_ACCOUNT_CMDLETS, ...TELEMETRY_CMDLETS, ...TELEMETRY_REPORT_CMDLETS, ...DEMO_CMDLETS];
