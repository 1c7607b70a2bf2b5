import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Bridge, BridgeNumber, License, Tenant, ThirdPartyAcp, User } from '../domain/directory.js';
import { DEFAULT_TEAMS_MEETING_URL } from '../domain/directory.js';
import type { SourceMeetingType, TargetMeetingType } from '../domain/migration.js';
import type { TeamsUpgradePolicyName } from '../domain/teams-upgrade.js';
import type { BridgeTable, Database, TenantTable, UserTable } from './schema.js';
import { notFound } from '../domain/errors.js';

type K = Kysely<Database>;

const bool = (n: number): boolean => n === 1;
const int = (b: boolean): number => (b ? 1 : 0);

export function tenantFromRow(r: Selectable<TenantTable>): Tenant {
  return {
    id: r.id,
    name: r.name,
    domains: JSON.parse(r.domains) as string[],
    meetingUrl: r.meeting_url,
    onPremisesMeetingUrl: r.on_premises_meeting_url,
    teamsMeetingUrl: r.teams_meeting_url ?? DEFAULT_TEAMS_MEETING_URL,
    settings: {
      meetingMigrationEnabled: bool(r.meeting_migration_enabled),
      automaticallyMigrateUserMeetings: bool(r.automatically_migrate_user_meetings),
      automaticallyReplaceAcpProvider: bool(r.automatically_replace_acp_provider),
      preserveEditedBlocks: bool(r.preserve_edited_blocks),
      pinLength: r.pin_length,
      maxMeetingAttendees: r.max_meeting_attendees,
      timeZone: r.time_zone,
      automaticallySendEmailsToUsers: r.automatically_send_emails_to_users !== 0,
      teamsUpgradePolicy: r.teams_upgrade_policy as TeamsUpgradePolicyName,
      meetingMigrationSourceMeetingTypes: r.meeting_migration_source_meeting_types as SourceMeetingType,
      meetingMigrationTargetMeetingTypes: r.meeting_migration_target_meeting_types as TargetMeetingType,
    },
  };
}

export function tenantToRow(t: Tenant, createdAt: number): Insertable<TenantTable> & { time_zone: string } {
  const s = t.settings;
  return {
    id: t.id,
    name: t.name,
    domains: JSON.stringify(t.domains),
    meeting_url: t.meetingUrl,
    on_premises_meeting_url: t.onPremisesMeetingUrl,
    teams_meeting_url: t.teamsMeetingUrl,
    meeting_migration_enabled: int(s.meetingMigrationEnabled),
    automatically_migrate_user_meetings: int(s.automaticallyMigrateUserMeetings),
    automatically_replace_acp_provider: int(s.automaticallyReplaceAcpProvider),
    preserve_edited_blocks: int(s.preserveEditedBlocks),
    pin_length: s.pinLength,
    max_meeting_attendees: s.maxMeetingAttendees,
    time_zone: s.timeZone,
    automatically_send_emails_to_users: int(s.automaticallySendEmailsToUsers),
    created_at: createdAt,
    teams_upgrade_policy: s.teamsUpgradePolicy,
    meeting_migration_source_meeting_types: s.meetingMigrationSourceMeetingTypes,
    meeting_migration_target_meeting_types: s.meetingMigrationTargetMeetingTypes,
  };
}

export function userFromRow(r: Selectable<UserTable>): User {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    upn: r.upn,
    sipAddress: r.sip_address,
    displayName: r.display_name,
    preferredLanguage: r.preferred_language,
    hostedOn: r.hosted_on,
    mailboxLocation: r.mailbox_location,
    licenses: JSON.parse(r.licenses) as License[],
    acProvider: r.ac_provider,
    acp: r.acp ? (JSON.parse(r.acp) as ThirdPartyAcp) : null,
    acEnabled: bool(r.ac_enabled),
    bridgeId: r.bridge_id,
    tollNumber: r.toll_number,
    tollFreeNumber: r.toll_free_number,
    conferenceId: r.conference_id,
    timeZone: r.time_zone,
    teamsUpgradePolicy: (r.teams_upgrade_policy ?? null) as TeamsUpgradePolicyName | null,
  };
}

/** The user's columns that operations change (everything but identity, PIN and timestamps). */
export function userChanges(u: User): Partial<UserTable> {
  return {
    upn: u.upn,
    sip_address: u.sipAddress,
    display_name: u.displayName,
    preferred_language: u.preferredLanguage,
    hosted_on: u.hostedOn,
    mailbox_location: u.mailboxLocation,
    licenses: JSON.stringify(u.licenses),
    ac_provider: u.acProvider,
    acp: u.acp ? JSON.stringify(u.acp) : null,
    ac_enabled: int(u.acEnabled),
    bridge_id: u.bridgeId,
    toll_number: u.tollNumber,
    toll_free_number: u.tollFreeNumber,
    conference_id: u.conferenceId,
    time_zone: u.timeZone,
    teams_upgrade_policy: u.teamsUpgradePolicy,
  };
}

export async function listTenants(k: K): Promise<Tenant[]> {
  const rows = await k.selectFrom('tenants').selectAll().orderBy('created_at').execute();
  return rows.map(tenantFromRow);
}

export async function getTenant(k: K, id: string): Promise<Tenant | undefined> {
  const r = await k.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  return r && tenantFromRow(r);
}

export async function updateTenant(k: K, t: Tenant): Promise<void> {
  const { id, created_at, ...rest } = tenantToRow(t, 0);
  void created_at;
  await k.updateTable('tenants').set(rest).where('id', '=', id).execute();
}

function bridgeFromRows(b: BridgeTable, numbers: BridgeNumber[]): Bridge {
  return {
    id: b.id,
    tenantId: b.tenant_id,
    name: b.name,
    isDefault: bool(b.is_default),
    onPremises: bool(b.on_premises),
    defaultTollNumber: b.default_toll_number,
    defaultTollFreeNumber: b.default_toll_free_number,
    numbers,
  };
}

export async function listBridges(k: K, tenantId: string): Promise<Bridge[]> {
  const [bridges, numbers] = await Promise.all([
    k.selectFrom('bridges').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').execute(),
    k.selectFrom('bridge_numbers').selectAll().where('tenant_id', '=', tenantId).orderBy('position').execute(),
  ]);
  return bridges.map((b) =>
    bridgeFromRows(
      b,
      numbers
        .filter((n) => n.bridge_id === b.id)
        .map((n) => ({ number: n.number, kind: n.kind, city: n.city, languages: JSON.parse(n.languages) as string[] })),
    ),
  );
}

export async function insertBridge(k: K, b: Bridge, createdAt: number): Promise<void> {
  await k.insertInto('bridges').values({
    id: b.id,
    tenant_id: b.tenantId,
    name: b.name,
    is_default: int(b.isDefault),
    on_premises: int(b.onPremises),
    default_toll_number: b.defaultTollNumber,
    default_toll_free_number: b.defaultTollFreeNumber,
    created_at: createdAt,
  }).execute();
  if (b.numbers.length) {
    await k.insertInto('bridge_numbers').values(b.numbers.map((n, i) => ({
      tenant_id: b.tenantId,
      bridge_id: b.id,
      number: n.number,
      kind: n.kind,
      city: n.city,
      languages: JSON.stringify(n.languages),
      position: i,
    }))).execute();
  }
}

export async function updateBridgeDefaults(k: K, b: Bridge): Promise<void> {
  await k.updateTable('bridges')
    .set({ default_toll_number: b.defaultTollNumber, default_toll_free_number: b.defaultTollFreeNumber, is_default: int(b.isDefault) })
    .where('id', '=', b.id)
    .execute();
}

export async function deleteBridgeNumber(k: K, tenantId: string, number: string): Promise<void> {
  await k.deleteFrom('bridge_numbers').where('tenant_id', '=', tenantId).where('number', '=', number).execute();
}

export async function listUsers(k: K, tenantId: string): Promise<User[]> {
  const rows = await k.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).orderBy('upn').execute();
  return rows.map(userFromRow);
}

/** Finds a user by UPN or SIP address (case-insensitive; `sip:` optional). */
export async function findUser(k: K, tenantId: string, identity: string): Promise<User | undefined> {
  const id = identity.trim().toLowerCase();
  const sip = id.startsWith('sip:') ? id : `sip:${id}`;
  const r = await k.selectFrom('users').selectAll()
    .where('tenant_id', '=', tenantId)
    .where((eb) => eb.or([eb('upn', '=', id), eb('sip_address', '=', sip), eb('id', '=', id)]))
    .executeTakeFirst();
  return r && userFromRow(r);
}

export async function updateUser(k: K, u: User, now: number): Promise<void> {
  await k.updateTable('users').set({ ...userChanges(u), modified_at: now }).where('id', '=', u.id).execute();
}

/**
 * A user by UPN or SIP address, or a NotFound error that names the identity and the tenant and says how to look
 * users up — the one wording every cmdlet gives.
 */
export async function requireUser(k: K, tenantId: string, identity: string): Promise<User> {
  const user = await findUser(k, tenantId, identity);
  if (user) return user;
  const tenant = await getTenant(k, tenantId);
  throw notFound(`no user '${identity}' in tenant ${tenant?.name ?? tenantId}: check the UserPrincipalName or SIP address (Get-CsOnlineDialInConferencingUser lists users)`);
}

/** The tenant's users known by any of these addresses (UPN or SIP), keyed by the address given. */
export async function usersByAddress(k: K, tenantId: string, addresses: readonly string[]): Promise<Map<string, User>> {
  const wanted = [...new Set(addresses)];
  const out = new Map<string, User>();
  for (let i = 0; i < wanted.length; i += 500) {
    const chunk = wanted.slice(i, i + 500);
    const rows = await k.selectFrom('users').selectAll().where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('upn', 'in', chunk), eb('sip_address', 'in', chunk.map((a) => `sip:${a}`))]))
      .execute();
    for (const u of rows.map(userFromRow)) {
      for (const a of [u.upn, u.sipAddress.replace(/^sip:/i, '')]) if (chunk.includes(a)) out.set(a, u);
    }
  }
  return out;
}
