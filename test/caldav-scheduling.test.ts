// Issue 8 §2/§6, the server-schedules mode against a real scheduling server: Debian's DAViCal (RFC 6638,
// calendar-auto-schedule). The organizer's mailbox is reached through a service account with a DAViCal grant and
// the host's PrincipalUrlTemplate. MMS writes only the organizer's object; DAViCal delivers the update to the
// attendee's calendar; MMS copies nothing and queues no mail — exactly one of the two ways, never both.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { TEST_DATABASES } from './helpers/databases.js';
import { SCHEDULING_SERVER_SKIP, SchedulingServer } from './helpers/scheduling-server.js';
import { ACTOR } from './helpers/directory-fixture.js';
import { blockIn, eventOf, expectedBlock, march, SERVICE_ADDRESS, withMigrationFixture } from './helpers/migration-fixture.js';
import { newMailboxHost, setUserMailbox } from '../src/directory/index.js';
import { MigrationWorker, startMigration } from '../src/migration/index.js';
import { secretBoxFor } from '../src/secrets/index.js';
import { listRequests } from '../src/store/requests-repo.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

for (const t of TEST_DATABASES) {
  describe(`${t.name}: a CalDAV server that schedules (DAViCal)`, { skip: t.skip ?? SCHEDULING_SERVER_SKIP }, () => {
    it('the organizer\'s PUT is the update: DAViCal delivers it to the attendee, MMS sends and copies nothing', () =>
      withMigrationFixture(t, async (fx) => {
        const users = ['amy', 'ben', 'mms-service'].map((name) => ({ name, password: `${name}-${randomUUID()}`, email: name === 'mms-service' ? 'mms@contoso.com' : fx.upn(name) }));
        const server = await SchedulingServer.start(users);
        try {
          await server.grant('amy', 'mms-service');
          const s = await fx.schedule({ subject: 'Planning', start: march(10), uid: 'planning@contoso.com', meetingId: 'PLN23456', attendees: [fx.upn('ben'), 'xena@fabrikam.com'] });
          const organizerUrl = `${server.calendarUrl('amy')}planning.ics`;
          const put = await fetch(organizerUrl, { method: 'PUT', headers: { authorization: server.authOf('amy'), 'content-type': 'text/calendar; charset=utf-8', 'if-none-match': '*' }, body: (await fx.get('amy', s.uid)).ics });
          assert.equal(put.status, 201, server.log);
          const delivered = async () => (await server.objects('ben', server.calendarUrl('ben'))).filter((o) => o.ics.includes('planning@contoso.com'));
          assert.equal((await delivered()).length, 1, 'DAViCal delivered the invitation to ben');

          const secrets = secretBoxFor({ secretKey: randomBytes(32), dialect: fx.db.dialect });
          const svc = users[2] as (typeof users)[number];
          await newMailboxHost(fx.ctx, fx.tenant.id, { name: 'DAViCal', type: 'CalDav', url: server.url, userName: svc.name, password: svc.password, principalUrlTemplate: '/caldav.php/{localpart}/' }, secrets);
          await setUserMailbox(fx.ctx, fx.tenant.id, fx.upn('amy'), { hostName: 'DAViCal' }, secrets);
          await fx.retarget();
          const [r] = await startMigration(fx.db, await fx.currentTenant(), [fx.upn('amy')], { actor: ACTOR, now: () => fx.clock.now });
          assert.ok(r && r.status === 'Queued', JSON.stringify(r));
          const worker = new MigrationWorker({ db: fx.db, now: () => fx.clock.now, logger: silent, serviceAddress: SERVICE_ADDRESS, secrets });
          await worker.runOnce([r.correlationId]);
          const request = (await listRequests(fx.db.kysely, fx.tenant.id)).find((x) => x.correlationId === r.correlationId);
          assert.equal(request?.state, 'Succeeded', `${request?.lastMessage}\n${server.log.slice(-2000)}`);
          assert.deepEqual((await fx.history(r.correlationId)).map((h) => [h.Uid, h.Action, h.Reason, h.AttendeesNotified]), [['planning@contoso.com', 'Updated', 'BlockReplaced', 2]]);

          const mine = await fetch(organizerUrl, { headers: { authorization: server.authOf('amy') } });
          const text = (await mine.text()).replace(/%2C/g, ',');
          assert.equal(blockIn(eventOf(text).get('DESCRIPTION')), expectedBlock('https://meet.contoso.com/amy/PLN23456'));
          const bens = await delivered();
          assert.equal(bens.length, 1, 'still one copy in ben\'s calendar');
          assert.equal(blockIn(eventOf((bens[0]?.ics ?? '').replace(/%2C/g, ',')).get('DESCRIPTION')), expectedBlock('https://meet.contoso.com/amy/PLN23456'), 'the server delivered the new block to ben');
          assert.deepEqual(await fx.notifications(r.correlationId), [], 'MMS queued nothing: the server told the attendees');
        } finally {
          await server.dispose();
        }
      }));
  });
}
