// The migration fixture's tenant with its mailboxes on a real Radicale (Debian package) instead of the built-in
// store: amy organizes, ben and dan attend with copies of their own on the same server, xena and yuri are external.
// Meetings are scheduled the way the add-in does (into the built-in store, where scheduleMeeting writes), then their
// texts are PUT to Radicale — amy's as the organizer's object, ben's personalized (response, reminder, category),
// dan's as the organizer's text — and the users' mailboxes are moved onto the host with Set-MmsUserMailbox
// (their own accounts). Requests to Radicale go through a DavProxy so tests can inject 429/503/5xx answers.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { TestDatabase } from './databases.js';
import { DavProxy } from './dav-proxy.js';
import { RadicaleServer } from './radicale.js';
import { ACTOR } from './directory-fixture.js';
import { migrationFixture, SERVICE_ADDRESS, type MigrationFixture } from './migration-fixture.js';
import { personalFor, personalize } from './personal-copy.js';
import { newMailboxHost, setUserMailbox } from '../../src/directory/index.js';
import { MigrationWorker, startMigration } from '../../src/migration/index.js';
import { secretBoxFor, type SecretBox } from '../../src/secrets/index.js';
import { listRequests, type MigrationRequest } from '../../src/store/requests-repo.js';
import type { ScheduleInput } from '../../src/meetings/index.js';

export const DAV_USERS = ['amy', 'ben', 'dan'] as const;
export type DavUser = (typeof DAV_USERS)[number];

export interface CalDavFixture {
  readonly fx: MigrationFixture;
  readonly radicale: RadicaleServer;
  readonly proxy: DavProxy;
  readonly secrets: SecretBox;
  /** MMS_SECRET_KEY for `mms` commands run on the fixture's database (the key the passwords are sealed with). */
  readonly secretKey: string;
  /** Moves amy's, ben's and dan's mailboxes onto the host (Set-MmsUserMailbox; `migrate` does it first too). */
  moveMailboxes(): Promise<void>;
  /** The calendar URL of a user on Radicale (direct, not through the proxy). */
  calendar(user: DavUser): string;
  /** Schedules a meeting (amy organizes; ben, dan, xena, yuri attend unless given) and puts it on Radicale. */
  meeting(input: Partial<ScheduleInput> & { subject: string; start: number }): Promise<string>;
  /** An object's text and ETag on Radicale, read directly; undefined when absent. */
  object(user: DavUser, uid: string): Promise<{ ics: string; etag: string } | undefined>;
  /** PUTs a text as a user (unconditional), as their calendar client would. */
  put(user: DavUser, uid: string, ics: string): Promise<void>;
  remove(user: DavUser, uid: string): Promise<void>;
  /** Start-CsExMeetingMigration for amy, then one worker runs that request once; the request as it then is. */
  migrate(opts?: { beforeWrite?: (uids: readonly string[]) => Promise<void> }): Promise<MigrationRequest>;
  /** Runs the worker again on an existing request (after its retry time). */
  rerun(correlationId: string): Promise<MigrationRequest>;
  dispose(): Promise<void>;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function caldavFixture(t: TestDatabase, opts: { passwords?: Partial<Record<DavUser, string>> } = {}): Promise<CalDavFixture> {
  const fx = await migrationFixture(t);
  const pw = Object.fromEntries(DAV_USERS.map((u) => [u, `${u}-${randomUUID()}`])) as Record<DavUser, string>;
  const radicale = await RadicaleServer.start(DAV_USERS.map((u) => ({ name: u, password: pw[u] })));
  const proxy = await DavProxy.start(radicale.url);
  const calendars = {} as Record<DavUser, string>;
  for (const u of DAV_USERS) calendars[u] = await radicale.makeCalendar(u, 'calendar', `${u}'s calendar`);
  const key = randomBytes(32);
  const secrets = secretBoxFor({ secretKey: key, dialect: fx.db.dialect });
  await newMailboxHost(fx.ctx, fx.tenant.id, { name: 'Radicale', type: 'CalDav', url: `${proxy.url}/` }, secrets);
  const now = () => fx.clock.now;
  const href = (user: DavUser, uid: string) => `${calendars[user]}${encodeURIComponent(uid)}.ics`;
  const auth = (user: DavUser) => ({ authorization: radicale.authOf(user) });

  const put = async (user: DavUser, uid: string, ics: string) => {
    const res = await fetch(href(user, uid), { method: 'PUT', headers: { ...auth(user), 'content-type': 'text/calendar; charset=utf-8' }, body: ics });
    assert.ok(res.status === 201 || res.status === 204, `fixture: PUT ${uid} for ${user} answered ${res.status}: ${await res.text()}`);
  };
  const run = async (correlationId: string, beforeWrite?: (uids: readonly string[]) => Promise<void>) => {
    const worker = new MigrationWorker({ db: fx.db, now, logger: silent, workerId: 'test-worker', serviceAddress: SERVICE_ADDRESS, secrets, beforeWrite, davTimeoutMs: 10_000 });
    await worker.runOnce([correlationId]);
    const request = (await listRequests(fx.db.kysely, fx.tenant.id)).find((x) => x.correlationId === correlationId);
    assert.ok(request, 'fixture: the request is gone');
    return request;
  };
  let moved = false;
  const moveMailboxes = async () => {
    if (moved) return;
    moved = true;
    for (const u of DAV_USERS) {
      await setUserMailbox(fx.ctx, fx.tenant.id, fx.upn(u), { hostName: 'Radicale', userName: u, password: opts.passwords?.[u] ?? pw[u] }, secrets);
    }
  };

  return {
    fx, radicale, proxy, secrets, secretKey: key.toString('base64'), moveMailboxes,
    calendar: (u) => calendars[u],
    async meeting(input) {
      const s = await fx.schedule({ attendees: [fx.upn('ben'), fx.upn('dan'), 'xena@fabrikam.com', 'yuri@example.org'], ...input });
      const organizer = await fx.get('amy', s.uid);
      await put('amy', s.uid, organizer.ics);
      const attendees = input.attendees ?? [fx.upn('ben'), fx.upn('dan')];
      if (attendees.includes(fx.upn('ben'))) await put('ben', s.uid, personalize(organizer.ics, fx.upn('ben'), personalFor(fx.upn('ben'), 1)));
      if (attendees.includes(fx.upn('dan'))) await put('dan', s.uid, organizer.ics);
      return s.uid;
    },
    async object(user, uid) {
      const res = await fetch(href(user, uid), { headers: auth(user) });
      if (res.status === 404) return undefined;
      assert.equal(res.status, 200, `fixture: GET ${uid} of ${user}`);
      return { ics: await res.text(), etag: res.headers.get('etag') ?? '' };
    },
    put,
    async remove(user, uid) {
      const res = await fetch(href(user, uid), { method: 'DELETE', headers: auth(user) });
      assert.ok(res.status < 300, `fixture: DELETE ${uid} of ${user} answered ${res.status}`);
    },
    async migrate(o = {}) {
      await moveMailboxes();
      const [r] = await startMigration(fx.db, await fx.currentTenant(), [fx.upn('amy')], { actor: ACTOR, now });
      assert.ok(r && r.status === 'Queued', `fixture: Start-CsExMeetingMigration: ${JSON.stringify(r)}`);
      return run(r.correlationId, o.beforeWrite);
    },
    rerun: (correlationId) => run(correlationId),
    async dispose() {
      await proxy.close();
      await radicale.dispose();
      await fx.drop();
    },
  };
}

/** Runs `fn` on a fresh CalDAV fixture (Radicale and a database), disposed afterwards; a failure carries Radicale's log. */
export async function withCalDav(t: TestDatabase, fn: (c: CalDavFixture) => Promise<void>, opts?: Parameters<typeof caldavFixture>[1]): Promise<void> {
  const c = await caldavFixture(t, opts);
  try {
    await fn(c);
  } catch (err) {
    (err as Error).message += `\nRadicale log: ${c.radicale.log.slice(-1500)}`;
    throw err;
  } finally {
    await c.dispose();
  }
}
