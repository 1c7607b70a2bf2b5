import { usageError } from '../domain/errors.js';
import type { SecretBox } from '../secrets/index.js';
import type { MailboxHostRecord, UserMailboxRecord } from '../store/mailbox-host-repo.js';

/** Where and as whom to connect for one host (and optionally one user's mailbox on it): secrets opened. */
export interface MailboxConnection {
  readonly hostId: string;
  readonly hostName: string;
  readonly hostUrl: string;
  readonly maxConcurrency: number;
  readonly userName: string | undefined;
  readonly password: string | undefined;
  /** From the host's PrincipalUrlTemplate, for a user reached through the service account. */
  readonly principalUrl: string | undefined;
  readonly calendarUrl: string | undefined;
}

/** What a sealed password is bound to (src/secrets/): a sealed value copied to another row does not open. */
export const hostSecretContext = (hostId: string): string => `mailbox_hosts:${hostId}:password`;
export const userSecretContext = (userId: string): string => `user_mailboxes:${userId}:password`;

function expandTemplate(template: string, upn: string, hostUrl: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%40/g, '@');
  return new URL(template.replace(/\{upn\}/g, enc(upn)).replace(/\{localpart\}/g, enc(upn.split('@')[0] ?? upn)), hostUrl).href;
}

/**
 * How to reach a host as its service account, or (with `user`) one user's mailbox on it: the user's own credentials
 * and calendar URL when set, else the service account and the principal from the host's template. Passwords are
 * opened only on the path that uses them.
 */
export function connectionOf(host: MailboxHostRecord, user: { id: string; upn: string; mailbox: UserMailboxRecord } | undefined, box: SecretBox): MailboxConnection {
  const base = { hostId: host.id, hostName: host.name, hostUrl: host.url, maxConcurrency: host.maxConcurrency };
  const serviceAccount = () => ({ userName: host.userName ?? undefined, password: host.passwordSealed ? box.open(host.passwordSealed, hostSecretContext(host.id)) : undefined });
  if (!user) return { ...base, ...serviceAccount(), principalUrl: undefined, calendarUrl: undefined };
  const mb = user.mailbox;
  const calendarUrl = mb.calendarUrl ?? undefined;
  if (mb.userName !== null) {
    return { ...base, userName: mb.userName, password: mb.passwordSealed ? box.open(mb.passwordSealed, userSecretContext(user.id)) : undefined, principalUrl: undefined, calendarUrl };
  }
  if (!calendarUrl && !host.principalUrlTemplate) {
    throw usageError(`cannot find the calendars of ${user.upn} through the service account of '${host.name}': set the host's -PrincipalUrlTemplate, or the user's -CalendarUrl or own -UserName and -PasswordFile`);
  }
  return { ...base, ...serviceAccount(), principalUrl: host.principalUrlTemplate ? expandTemplate(host.principalUrlTemplate, user.upn, host.url) : undefined, calendarUrl };
}
