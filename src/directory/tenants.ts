import { randomUUID } from 'node:crypto';
import { DEFAULT_TENANT_SETTINGS, PIN_LENGTH_RANGE, type Tenant, type TenantSettings } from '../domain/directory.js';
import { DEFAULT_TEAMS_MEETING_URL } from '../domain/directory.js';
import { conflict, notFound, usageError } from '../domain/errors.js';
import { insertAudit } from '../store/audit-repo.js';
import { getTenant, listTenants, tenantToRow, updateTenant } from '../store/directory-repo.js';
import { writeTransaction } from '../store/transaction.js';
import { queueChanged } from '../store/wake-signal.js';
import { diff } from './apply-change.js';
import type { DirectoryContext } from './context.js';
import { checkTimeZone, rederiveAfterZoneChange } from './time-zone.js';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

function checkUrl(name: string, value: string): string {
  const v = value.trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw usageError(`${name} '${value}' is not a URL: write it like https://meet.contoso.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw usageError(`${name} '${value}' must be an https:// URL`);
  return v;
}

/** New-MmsTenant: an organization with its verified domains and its two meeting URLs. */
export async function newTenant(
  ctx: DirectoryContext,
  input: { name: string; domains: readonly string[]; meetingUrl?: string; onPremisesMeetingUrl?: string; timeZone?: string; teamsMeetingUrl?: string },
): Promise<Tenant> {
  const name = input.name.trim();
  if (!name) throw usageError('Name is empty: give the organization name, e.g. -Name Contoso');
  const domains = input.domains.map((d) => d.trim().toLowerCase()).filter(Boolean);
  if (!domains.length) throw usageError('give at least one verified domain: -Domain contoso.com');
  for (const d of domains) if (!DOMAIN.test(d)) throw usageError(`Domain '${d}' is not a domain name: write it like contoso.com`);
  const timeZone = input.timeZone === undefined ? DEFAULT_TENANT_SETTINGS.timeZone : checkTimeZone(input.timeZone);
  const primary = domains[0] as string;
  const tenant: Tenant = {
    id: randomUUID(),
    name,
    domains,
    meetingUrl: checkUrl('MeetingUrl', input.meetingUrl ?? `https://meet.${primary}`),
    onPremisesMeetingUrl: checkUrl('OnPremisesMeetingUrl', input.onPremisesMeetingUrl ?? `https://meet.onprem.${primary}`),
    teamsMeetingUrl: checkUrl('TeamsMeetingUrl', input.teamsMeetingUrl ?? DEFAULT_TEAMS_MEETING_URL),
    settings: { ...DEFAULT_TENANT_SETTINGS, timeZone },
  };
  return writeTransaction(ctx.db, async (tx) => {
    const all = await listTenants(tx);
    if (all.some((t) => t.name.toLowerCase() === name.toLowerCase())) throw conflict(`a tenant named ${name} already exists`);
    const clash = all.find((t) => t.domains.some((d) => domains.includes(d)));
    if (clash) throw conflict(`a domain of ${name} is already verified by tenant ${clash.name}`);
    const now = ctx.now();
    await tx.insertInto('tenants').values(tenantToRow(tenant, now)).execute();
    await insertAudit(tx, {
      tenantId: tenant.id, at: now, actor: ctx.actor, cmdlet: 'New-MmsTenant', userId: null, target: name,
      changes: { Tenant: [null, name] }, decision: 'None', reason: 'tenant created', correlationId: null,
    });
    return tenant;
  });
}

/** The settings an admin may change, by their cmdlet parameter names. */
export type SettingsChange = Partial<TenantSettings>;

/**
 * Changes tenant settings (Set-CsTenantMigrationConfiguration, Set-CsOnlineDialInConferencingTenantSettings) or the
 * online meeting URL (Update-CsTenantMeetingUrl, a documented non-trigger). Nothing here migrates meetings.
 */
export async function changeTenant(
  ctx: DirectoryContext,
  tenantId: string,
  cmdlet: string,
  change: { settings?: SettingsChange; meetingUrl?: string; teamsMeetingUrl?: string },
): Promise<Tenant> {
  return (await changeTenantSettings(ctx, tenantId, cmdlet, change)).tenant;
}

/**
 * changeTenant, also saying when the settings given are the tenant's already: then nothing is written (no audit
 * row), as for a user change already in place (change-user.ts NoChange), and `noChange` says which values they are,
 * so that a script re-applying a desired state succeeds with "no change".
 */
export async function changeTenantSettings(
  ctx: DirectoryContext,
  tenantId: string,
  cmdlet: string,
  change: { settings?: SettingsChange; meetingUrl?: string; teamsMeetingUrl?: string },
): Promise<{ tenant: Tenant; noChange?: string }> {
  let s = change.settings ?? {};
  if (s.pinLength !== undefined && (s.pinLength < PIN_LENGTH_RANGE[0] || s.pinLength > PIN_LENGTH_RANGE[1])) {
    throw usageError(`PinLength ${s.pinLength} is out of range: give ${PIN_LENGTH_RANGE[0]} to ${PIN_LENGTH_RANGE[1]}`);
  }
  if (s.maxMeetingAttendees !== undefined && (s.maxMeetingAttendees < 1 || s.maxMeetingAttendees > 100_000)) {
    throw usageError(`MaxMeetingAttendees ${s.maxMeetingAttendees} is out of range: give 1 to 100000 (the documented limit is 250)`);
  }
  const url = change.meetingUrl !== undefined ? checkUrl('MeetingUrl', change.meetingUrl) : undefined;
  const teamsUrl = change.teamsMeetingUrl !== undefined ? checkUrl('TeamsMeetingUrl', change.teamsMeetingUrl) : undefined;
  // Update-CsTenantMeetingUrl -TeamsMeetingUrl alone changes only the Teams URL (issue 12); otherwise, as documented,
  // the meeting URL is set (to the default when none is given).
  const setsMeetingUrl = cmdlet === 'Update-CsTenantMeetingUrl' && !(teamsUrl !== undefined && url === undefined);
  if (s.timeZone !== undefined) s = { ...s, timeZone: checkTimeZone(s.timeZone) };
  return writeTransaction(ctx.db, async (tx) => {
    const before = await getTenant(tx, tenantId);
    if (!before) throw notFound(`tenant ${tenantId} no longer exists`);
    const after: Tenant = {
      ...before,
      meetingUrl: setsMeetingUrl ? url ?? `https://meet.${before.domains[0]}` : before.meetingUrl,
      teamsMeetingUrl: teamsUrl ?? before.teamsMeetingUrl,
      settings: { ...before.settings, ...s },
    };
    const changes = { ...diff(before.settings, after.settings), ...diff({ MeetingUrl: before.meetingUrl }, { MeetingUrl: after.meetingUrl }), ...diff({ TeamsMeetingUrl: before.teamsMeetingUrl }, { TeamsMeetingUrl: after.teamsMeetingUrl }) };
    // Update-CsTenantMeetingUrl keeps its audit row either way: it records that existing meetings keep their URL.
    if (!Object.keys(changes).length && cmdlet !== 'Update-CsTenantMeetingUrl') {
      const given = Object.entries(s).filter(([, v]) => v !== undefined).map(([k, v]) => `${k.charAt(0).toUpperCase()}${k.slice(1)} is already ${showSetting(v)}`);
      return { tenant: before, noChange: given.join(', ') || 'no setting was given' };
    }
    await updateTenant(tx, after);
    // Turned back on: the tenant's queued requests are runnable now, so idle workers are told at commit, like a trigger.
    if (after.settings.meetingMigrationEnabled && !before.settings.meetingMigrationEnabled) await queueChanged(tx);
    const now = ctx.now();
    // Users without a zone of their own read floating times in the tenant's: their stored meetings move with it.
    const rederived = after.settings.timeZone !== before.settings.timeZone ? await rederiveAfterZoneChange(tx, tenantId, now, 'tenant') : null;
    let reason = cmdlet === 'Update-CsTenantMeetingUrl'
      ? 'Update-CsTenantMeetingUrl does not trigger MMS (documented non-trigger): existing meetings keep the old URL; run Start-CsExMeetingMigration per user to update them'
      : Object.keys(changes).length ? 'tenant settings changed; settings apply to the next directory changes, no meetings migrate now' : 'no setting changed';
    if (rederived !== null) reason += `; the times of ${rederived} stored meeting(s) with floating times were derived again in the new time zone`;
    await insertAudit(tx, {
      tenantId, at: now, actor: ctx.actor, cmdlet, userId: null, target: before.name, changes,
      decision: cmdlet === 'Update-CsTenantMeetingUrl' ? 'NoMigration' : 'None', reason, correlationId: null,
    });
    return { tenant: after };
  });
}

/** A setting's value as the cmdlets print it: booleans True/False, as PowerShell does. */
function showSetting(v: unknown): string {
  return typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v);
}
