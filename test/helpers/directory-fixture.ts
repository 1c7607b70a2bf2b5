import assert from 'node:assert/strict';
// A provisioned directory for the trigger-rule and licence-rule suites: a tenant with an online default bridge
// (two toll and two toll-free numbers), a second online bridge, an on-premises bridge and a cast of users in the
// states the rules distinguish. Everything is created through the src/directory API with a fixed clock; while the
// fixture provisions, MeetingMigrationEnabled is off so that setting up queues nothing, and the tests only see
// requests and audit rows from what they do themselves.
import type { TestDatabase } from './databases.js';
import type { Db } from '../../src/store/index.js';
import type { Bridge, HostedOn, MailboxLocation, Tenant, TenantSettings } from '../../src/domain/directory.js';
import {
  auditLog,
  changeTenant,
  dialInUsers,
  disableDialIn,
  newBridge,
  newTenant,
  newUser,
  setDialInUser,
  setLicense,
  setUserAcp,
  type DirectoryContext,
} from '../../src/directory/index.js';
import { listRequests, type MigrationRequest } from '../../src/store/requests-repo.js';
import { findUser } from '../../src/store/directory-repo.js';

/** The fixed reference time every fixture starts at (tests never read the wall clock). */
export const REFERENCE_TIME = Date.UTC(2025, 2, 3, 9, 0, 0);
export const MIGRATION_DELAY_MS = 5_000;
export const ACTOR = 'admin@contoso.com';

/** The service numbers the fixture's bridges carry (E.164, as the directory stores them). */
export const NUMBERS = {
  seattle: '+14255550100',
  redmond: '+14255550101',
  tollFreeA: '+18665550100',
  tollFreeB: '+18665550101',
  london: '+442075550100',
  londonTollFree: '+448005550100',
  onPremises: '+14255550199',
} as const;

/** The third-party provider (ACP) the fixture puts users on. */
export const ACP = {
  name: 'Intercall',
  tollNumber: '+16465550100',
  tollFreeNumber: '+18775550100',
} as const;

export interface UserSpec {
  /** The UPN's local part; the UPN is `${name}@${domain}`. */
  readonly name: string;
  readonly hostedOn?: HostedOn;
  readonly mailboxLocation?: MailboxLocation;
  /** Holds the Audio Conferencing licence (which makes the provider Microsoft unless the user is on the ACP). */
  readonly licensed?: boolean;
  /** On the third-party provider Intercall with this participant passcode. */
  readonly acpPasscode?: string;
  /** Provisioned on the second online bridge instead of the default. */
  readonly secondBridge?: boolean;
  /** An explicit default toll number instead of the bridge's. */
  readonly tollNumber?: string;
  /** Licensed, then audio conferencing disabled. */
  readonly disabled?: boolean;
}

/** The cast: one user per state the rules tell apart. */
export const CAST: readonly UserSpec[] = [
  { name: 'amy', licensed: true }, // online, Microsoft, default bridge, shows the bridge defaults
  { name: 'ben', licensed: true, secondBridge: true }, // online, Microsoft, second bridge
  { name: 'cara', hostedOn: 'OnPremises' }, // homed on-premises, no licence, served by the on-premises bridge
  { name: 'dan' }, // online, no licence, no provider
  { name: 'eve', acpPasscode: '8675309' }, // online, on the ACP, no licence
  { name: 'fay', licensed: true, mailboxLocation: 'OnPremises' }, // online, Microsoft, mailbox on-premises
  { name: 'gus', licensed: true, tollNumber: NUMBERS.redmond }, // online, Microsoft, default bridge, own toll number
  { name: 'hal', licensed: true, disabled: true }, // online, licensed, audio conferencing disabled
  { name: 'ivy', licensed: true, acpPasscode: '1234567' }, // online, licensed, still on the ACP (ready to move)
  { name: 'jon', licensed: true, acpPasscode: '7654321' }, // like ivy
  { name: 'kim', hostedOn: 'OnPremises', mailboxLocation: 'OnPremises' }, // homed and mailbox on-premises
  { name: 'lee', hostedOn: 'OnPremises', acpPasscode: '5551234' }, // homed on-premises, on the ACP
];

export type AuditRow = Awaited<ReturnType<typeof auditLog>>[number];
export type DialInRow = Awaited<ReturnType<typeof dialInUsers>>[number];

export interface TenantFixture {
  readonly tenant: Tenant;
  readonly domain: string;
  readonly bridges: { readonly default: Bridge; readonly second: Bridge; readonly onPremises: Bridge };
  /** When provisioning finished: audit rows and requests from then on are the test's own. */
  readonly readyAt: number;
  upn(name: string): string;
  /** The tenant's migration requests (of one user when given), oldest first. */
  requests(name?: string): Promise<MigrationRequest[]>;
  /** Get-MmsAuditLog rows written since the fixture was ready (of one user when given). */
  audit(name?: string): Promise<AuditRow[]>;
  /** Get-CsOnlineDialInConferencingUser row of one user. */
  dialIn(name: string): Promise<DialInRow>;
  /** The user's id (for identities given by id). */
  userId(name: string): Promise<string>;
  /** Set-CsTenantMigrationConfiguration / Set-CsOnlineDialInConferencingTenantSettings. */
  settings(change: Partial<TenantSettings>): Promise<Tenant>;
}

export interface DirectoryFixture extends TenantFixture {
  readonly db: Db;
  readonly ctx: DirectoryContext;
  readonly clock: { now: number; advance(ms: number): void };
  /** Another tenant in the same database, provisioned the same way. */
  addTenant(opts: TenantOptions): Promise<TenantFixture>;
  drop(): Promise<void>;
}

export interface TenantOptions {
  readonly name: string;
  readonly domain: string;
  readonly users?: readonly UserSpec[];
  /** Settings in force once provisioning is done (defaults otherwise). */
  readonly settings?: Partial<TenantSettings>;
}

/** A fresh database of kind `t` holding the Contoso tenant and the cast (or `opts.users`). */
export async function directoryFixture(
  t: TestDatabase,
  opts: Partial<TenantOptions> & { readonly now?: number } = {},
): Promise<DirectoryFixture> {
  const { db, drop } = await t.fresh();
  try {
    const clock = {
      now: opts.now ?? REFERENCE_TIME,
      advance(ms: number) {
        clock.now += ms;
      },
    };
    const ctx: DirectoryContext = { db, actor: ACTOR, now: () => clock.now, migrationDelayMs: MIGRATION_DELAY_MS };
    const addTenant = (o: TenantOptions) => provisionTenant(ctx, clock, o);
    const main = await addTenant({ name: opts.name ?? 'Contoso', domain: opts.domain ?? 'contoso.com', users: opts.users ?? CAST, settings: opts.settings });
    return { ...main, db, ctx, clock, addTenant, drop };
  } catch (err) {
    await drop();
    throw err;
  }
}

async function provisionTenant(
  ctx: DirectoryContext,
  clock: { now: number; advance(ms: number): void },
  opts: TenantOptions,
): Promise<TenantFixture> {
  const { db } = ctx;
  let tenant = await newTenant(ctx, { name: opts.name, domains: [opts.domain] });
  const id = tenant.id;
  await changeTenant(ctx, id, 'Set-CsTenantMigrationConfiguration', {
    settings: { meetingMigrationEnabled: false, automaticallyReplaceAcpProvider: false },
  });
  const defaultBridge = await newBridge(ctx, id, {
    name: `${opts.name} US`,
    tollNumbers: [`${NUMBERS.seattle} (Seattle) en-US`, `${NUMBERS.redmond} (Redmond) en-US`],
    tollFreeNumbers: [`${NUMBERS.tollFreeA} (United States)`, `${NUMBERS.tollFreeB} (United States)`],
  });
  const second = await newBridge(ctx, id, {
    name: `${opts.name} EU`,
    tollNumbers: [`${NUMBERS.london} (London) en-GB`],
    tollFreeNumbers: [`${NUMBERS.londonTollFree} (United Kingdom)`],
  });
  const onPremises = await newBridge(ctx, id, {
    name: `${opts.name} On-Premises`,
    tollNumbers: [`${NUMBERS.onPremises} (Seattle on-premises)`],
    onPremises: true,
  });
  const upn = (name: string) => `${name}@${opts.domain}`;

  for (const u of opts.users ?? []) {
    const who = upn(u.name);
    await newUser(ctx, id, {
      userPrincipalName: who,
      displayName: u.name.replace(/^./, (c) => c.toUpperCase()),
      hostedOn: u.hostedOn,
      mailboxLocation: u.mailboxLocation,
    });
    if (u.acpPasscode) {
      await setUserAcp(ctx, id, who, { name: ACP.name, tollNumber: ACP.tollNumber, tollFreeNumber: ACP.tollFreeNumber, participantPasscode: u.acpPasscode });
    }
    if (u.licensed || u.disabled) await setLicense(ctx, id, who, { add: ['AudioConferencing'] });
    if (u.secondBridge) await setDialInUser(ctx, id, who, { bridgeName: second.name });
    if (u.tollNumber) await setDialInUser(ctx, id, who, { serviceNumber: u.tollNumber });
    if (u.disabled) await disableDialIn(ctx, id, who);
  }

  tenant = await changeTenant(ctx, id, 'Set-CsTenantMigrationConfiguration', {
    settings: { meetingMigrationEnabled: true, automaticallyReplaceAcpProvider: false, ...opts.settings },
  });
  const leftovers = await listRequests(db.kysely, id);
  if (leftovers.length) throw new Error(`fixture: provisioning ${opts.name} queued ${leftovers.length} request(s); it must queue none`);
  clock.advance(60_000);
  const readyAt = clock.now;

  const userId = async (name: string) => {
    const u = await findUser(db.kysely, id, name.includes('@') ? name : upn(name));
    if (!u) throw new Error(`fixture: no user ${name} in ${opts.name}`);
    return u.id;
  };
  return {
    tenant,
    domain: opts.domain,
    bridges: { default: defaultBridge, second, onPremises },
    readyAt,
    upn,
    userId,
    async requests(name) {
      return listRequests(db.kysely, id, name === undefined ? {} : { userId: await userId(name) });
    },
    async audit(name) {
      return auditLog(db, tenant, { start: readyAt, ...(name === undefined ? {} : { identity: upn(name) }) });
    },
    async dialIn(name) {
      const [row] = await dialInUsers(db, tenant, { identity: upn(name) });
      if (!row) throw new Error(`fixture: no dial-in row for ${name}`);
      return row;
    },
    settings(change) {
      return changeTenant(ctx, id, 'Set-CsTenantMigrationConfiguration', { settings: change });
    },
  };
}

/** Runs `fn` on a fresh directory fixture of `t`, dropped afterwards whatever happens. */
export async function withDirectoryFixture(t: TestDatabase, fn: (fx: DirectoryFixture) => Promise<void>): Promise<void> {
  const fx = await directoryFixture(t);
  try {
    await fn(fx);
  } finally {
    await fx.drop();
  }
}

/** The last audit row of a listing (fails the test when there is none). */
export function lastAudit(rows: readonly AuditRow[]): AuditRow {
  const row = rows[rows.length - 1];
  assert.ok(row, 'expected an audit row');
  return row;
}
