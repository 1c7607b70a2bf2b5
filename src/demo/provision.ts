// Sets up the Contoso directory through the real admin operations, in an order that queues no migration: the
// demo's users have no meetings yet, so a request now would only surprise the admin later.
import {
  changeTenant, newBridge, newTenant, newUser, setDialInUser, setLicense, setUserAcp,
  type ChangeOutcome, type DirectoryContext,
} from '../directory/index.js';
import type { Bridge, Tenant, User } from '../domain/directory.js';
import { ACP, BRIDGES, CONTOSO, EU_NUMBER, upnOf, USERS, type DemoUser } from './contoso-directory.js';

export interface DemoDirectory {
  readonly tenant: Tenant;
  readonly bridges: readonly Bridge[];
  /** Each demo user as the directory holds them after provisioning, by alias. */
  readonly users: ReadonlyMap<string, User>;
}

/**
 * Creates the tenant, its three bridges and the users, each in its demo state.
 *
 * Order matters, because assigning the licence or a bridge to a user homed online is a migration trigger even
 * when the user has no meeting yet. So the online users' audio conferencing is provisioned while
 * MeetingMigrationEnabled is off (their audit rows say so), then it is turned back on, and only changes the
 * rules never migrate follow: licensing users still homed on-premises ahead of their move (as the setup guide
 * recommends) and putting users on the third-party provider. Their audit rows then explain why nothing ran.
 */
export async function provisionDirectory(ctx: DirectoryContext): Promise<DemoDirectory> {
  const tenant = await newTenant(ctx, {
    name: CONTOSO.name, domains: [CONTOSO.domain], meetingUrl: CONTOSO.meetingUrl, onPremisesMeetingUrl: CONTOSO.onPremisesMeetingUrl,
  });
  const id = tenant.id;
  await changeTenant(ctx, id, 'Set-CsTenantMigrationConfiguration', { settings: { meetingMigrationEnabled: false } });
  const bridges = [
    await newBridge(ctx, id, { ...BRIDGES.us, isDefault: true }),
    await newBridge(ctx, id, BRIDGES.eu),
    await newBridge(ctx, id, { ...BRIDGES.onPremises, onPremises: true }),
  ];

  const users = new Map<string, User>();
  const track = (alias: string, o: ChangeOutcome): void => {
    users.set(alias, o.user);
  };
  for (const u of USERS) {
    users.set(u.alias, await newUser(ctx, id, {
      userPrincipalName: upnOf(u.alias),
      displayName: u.displayName,
      preferredLanguage: u.language,
      hostedOn: u.kind === 'OnPremLicensed' || u.kind === 'OnPrem' ? 'OnPremises' : 'Online',
      mailboxLocation: u.kind === 'MailboxOnPrem' ? 'OnPremises' : 'Online',
    }));
  }
  const euBridge = (u: DemoUser) => ({ bridgeName: BRIDGES.eu.name, serviceNumber: EU_NUMBER[u.language] ?? EU_NUMBER['fr-FR'] });

  // Migration off: audio conferencing of the users homed online.
  for (const u of USERS.filter((x) => x.kind === 'US' || x.kind === 'EU' || x.kind === 'MailboxOnPrem')) {
    track(u.alias, await setLicense(ctx, id, upnOf(u.alias), { add: ['AudioConferencing'] }));
    if (u.kind === 'EU') track(u.alias, await setDialInUser(ctx, id, upnOf(u.alias), euBridge(u)));
  }
  await changeTenant(ctx, id, 'Set-CsTenantMigrationConfiguration', { settings: { meetingMigrationEnabled: true } });

  // Migration on: changes the rules do not migrate, with their reasons in the audit log.
  for (const u of USERS.filter((x) => x.kind === 'OnPremLicensed')) {
    track(u.alias, await setLicense(ctx, id, upnOf(u.alias), { add: ['AudioConferencing'] }));
    if (u.eu) track(u.alias, await setDialInUser(ctx, id, upnOf(u.alias), euBridge(u)));
  }
  const passcodes = ['4711083', '9902215'];
  for (const [i, u] of USERS.filter((x) => x.kind === 'Acp' || x.kind === 'AcpReady').entries()) {
    track(u.alias, await setUserAcp(ctx, id, upnOf(u.alias), {
      name: ACP.name, tollNumber: ACP.tollNumber, tollFreeNumber: ACP.tollFreeNumber, participantPasscode: passcodes[i % passcodes.length] as string, url: ACP.url,
    }));
    if (u.kind === 'AcpReady') track(u.alias, await setLicense(ctx, id, upnOf(u.alias), { add: ['AudioConferencing'] }));
  }
  return { tenant, bridges, users };
}
