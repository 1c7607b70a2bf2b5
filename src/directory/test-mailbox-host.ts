import { MmsError } from '../domain/errors.js';
import { DavClient, DavError, discoverCalendars, limiterFor, type Discovery } from '../mailbox/caldav/index.js';
import type { SecretBox } from '../secrets/index.js';
import type { Db } from '../store/index.js';
import { mailboxConnection } from './mailbox-hosts.js';

/** What Test-MmsMailboxHost found: what the server offers and the calendars that hold meetings. */
export interface MailboxHostTest extends Discovery {
  readonly hostName: string;
  readonly userName: string | undefined;
}

/**
 * Test-MmsMailboxHost: connects as the host's service account (or as one user's mailbox is reached), discovers, and
 * reports what the server offers. A failure is one MmsError line saying what failed and the fix (the DAV client's
 * message: 401 wrong credentials, 404 no principal, refused, TLS, timeout); no password is in it.
 */
export async function testMailboxHost(
  db: Db,
  tenantId: string,
  hostName: string,
  identity: string | undefined,
  box: SecretBox,
  opts: { timeoutMs?: number } = {},
): Promise<MailboxHostTest> {
  const conn = await mailboxConnection(db, tenantId, hostName, identity, box);
  const client = new DavClient({ userName: conn.userName, password: conn.password, timeoutMs: opts.timeoutMs, limiter: limiterFor(conn.hostUrl, conn.maxConcurrency) });
  try {
    const found = await discoverCalendars(client, { hostUrl: conn.hostUrl, principalUrl: conn.principalUrl, calendarUrl: conn.calendarUrl });
    return { ...found, hostName: conn.hostName, userName: conn.userName };
  } catch (err) {
    if (err instanceof DavError) {
      const code = err.kind === 'NotFound' ? 'NotFound' : err.transient ? 'Transient' : err.kind === 'Protocol' ? 'Invalid' : 'Conflict';
      throw new MmsError(code, `mailbox host '${conn.hostName}'${identity ? ` (${identity})` : ''}: ${err.message}`);
    }
    throw err;
  }
}
