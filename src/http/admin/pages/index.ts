// Every page of the admin center; each area's file lists its own pages (its list page, details, confirmations).
import type { AdminPage } from '../page.js';
import { AUDIT_PAGES } from './audit.js';
import { BRIDGE_PAGES } from './bridges.js';
import { DASHBOARD_PAGES } from './dashboard.js';
import { MIGRATION_PAGES } from './migrations.js';
import { SETTINGS_PAGES } from './settings.js';
import { TELEMETRY_PAGES } from './telemetry.js';
import { USER_PAGES } from './users.js';

export const PAGES: readonly AdminPage[] = [...DASHBOARD_PAGES, ...USER_PAGES, ...MIGRATION_PAGES, ...BRIDGE_PAGES, ...SETTINGS_PAGES, ...TELEMETRY_PAGES, ...AUDIT_PAGES];
