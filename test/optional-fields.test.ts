// Every optional input of tenants, bridges and users may be empty or absent: scheduling a meeting and migrating it
// must still work. A property test builds random directories through the same operations the cmdlets use, with
// optional fields left out or blank, schedules a meeting per user and migrates it after a change, on both
// databases; deterministic cases pin the reported ones.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TEST_DATABASES } from './helpers/databases.js';
import {
  enableDialIn, moveUser, newBridge, newTenant, newUser, setDialInUser, setLicense, setUserAcp, type DirectoryContext,
} from '../src/directory/index.js';
import { scheduleMeeting } from '../src/meetings/index.js';
import { BuiltinMailboxStore } from '../src/mailbox/index.js';
import { MigrationWorker, startMigration, transactionHistory } from '../src/migration/index.js';
import { editEvents } from '../src/ical/index.js';
import { MmsError } from '../src/domain/errors.js';
import type { Bridge, Tenant } from '../src/domain/directory.js';
import type { Db } from '../src/store/index.js';
import { findUser } from '../src/store/directory-repo.js';
import { listRequests } from '../src/store/requests-repo.js';

const T0 = Date.UTC(2026, 10, 2, 9);
const now = () => T0;
const quiet = { info() {}, warn() {}, error() {} };
const DAY = 86_400_000;

// Service numbers of several countries, with a number of no country (+800) and one no country rule covers (+999).
const TOLL = ['+14255550123', '+442075550100', '+33170375500', '+81312345678', '+4930123456', '+80012345678', '+99912345678', '+61291234567'];
const TOLL_FREE = ['+18005550199', '+448005550100', '+800987654321', '+498001234567'];
const LABEL = fc.option(fc.constantFrom('', ' ', 'Seattle', 'Zürich  Hauptbahnhof', '東京', 'Paris (75008'), { nil: undefined });
const LANGUAGES = fc.option(fc.constantFrom('en-US', 'fr-FR de-DE', 'ja-JP'), { nil: undefined });

/** A service number as New-MmsBridge takes it, with its optional label and languages left out or blank. */
const serviceNumber = (number: string) =>
  fc.tuple(LABEL, LANGUAGES).map(([label, languages]) => [number, label === undefined || label.includes('(') ? undefined : `(${label})`, languages].filter((x) => x !== undefined).join(' '));

const bridgeArb = fc.record({
  toll: fc.uniqueArray(fc.integer({ min: 0, max: TOLL.length - 1 }), { minLength: 1, maxLength: 2 }),
  tollFree: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: TOLL_FREE.length - 1 }), { maxLength: 2 }), { nil: undefined }),
  isDefault: fc.option(fc.boolean(), { nil: undefined }),
  onPremises: fc.option(fc.boolean(), { nil: undefined }),
}).chain((b) => fc.record({
  toll: fc.tuple(...b.toll.map((i) => serviceNumber(TOLL[i]!))),
  tollFree: b.tollFree === undefined ? fc.constant(undefined) : fc.tuple(...b.tollFree.map((i) => serviceNumber(TOLL_FREE[i]!))),
  isDefault: fc.constant(b.isDefault),
  onPremises: fc.constant(b.onPremises),
}));

const userArb = fc.record({
  sipAddress: fc.option(fc.constantFrom('sip:o.brien+x@contoso.com', 'First.Last@contoso.com'), { nil: undefined }),
  preferredLanguage: fc.option(fc.constantFrom('', 'fr-CA', 'ja-JP', 'zh-TW', 'pt-BR', 'de', 'es-419'), { nil: undefined }),
  hostedOn: fc.option(fc.constantFrom('Online' as const, 'OnPremises' as const), { nil: undefined }),
  licensed: fc.boolean(),
  acp: fc.option(fc.record({
    name: fc.constantFrom('Intercall', 'Acme  Audio'),
    tollFreeNumber: fc.option(fc.constantFrom('+18665550100', '+448085550100'), { nil: undefined }),
    url: fc.option(fc.constantFrom('', '  ', 'https://acp.example.com/numbers'), { nil: undefined }),
  }), { nil: undefined }),
  bridge: fc.option(fc.nat(3), { nil: undefined }),
  /** Set-CsOnlineDialInConferencingUser -ServiceNumber / -TollFreeServiceNumber: the user's own default numbers. */
  ownNumbers: fc.option(fc.record({ toll: fc.boolean(), tollFree: fc.boolean() }), { nil: undefined }),
  change: fc.constantFrom('MoveOnline', 'ResetConferenceId', 'License', 'ReplaceProvider', 'OtherBridge'),
});

const directoryArb = fc.record({
  meetingUrl: fc.option(fc.constantFrom('https://meet.example.com/', 'https://Example.com/meet', 'http://meet.example.com:8443/x', 'https://example.com/online meetings'), { nil: undefined }),
  onPremisesMeetingUrl: fc.option(fc.constantFrom('https://sfb.example.com/meet', 'https://lync.example.com/'), { nil: undefined }),
  bridges: fc.array(bridgeArb, { maxLength: 3 }),
  users: fc.array(userArb, { minLength: 1, maxLength: 3 }),
});
type Directory = typeof directoryArb extends fc.Arbitrary<infer D> ? D : never;

/** A directory operation may refuse (nothing to change, no licence); that is not what this test is about. */
async function unlessRefused(op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
  } catch (err) {
    if (!(err instanceof MmsError) || (err.code !== 'Conflict' && err.code !== 'NotFound')) throw err;
  }
}

async function migrate(db: Db, tenant: Tenant, upn: string): Promise<void> {
  const [r] = await startMigration(db, tenant, [upn], { actor: 'test', now });
  assert.ok(r?.status === 'Queued', JSON.stringify(r));
  const worker = new MigrationWorker({ db, now, logger: quiet, workerId: 'test-worker', serviceAddress: `mms@${tenant.domains[0]}` });
  assert.equal(await worker.runOnce([r.correlationId]), true);
  const request = (await listRequests(db.kysely, tenant.id)).find((x) => x.correlationId === r.correlationId);
  assert.equal(request?.state, 'Succeeded', `${upn}: ${request?.lastMessage}`);
  assert.equal(request?.failedMeeting, 0, `${upn}: ${request?.lastMessage}`);
  const rows = await transactionHistory(db, tenant, { identity: upn, correlationId: r.correlationId });
  for (const row of rows) assert.ok(row.Action === 'Updated' || row.Action === 'UpToDate', `${upn}: ${row.Action} ${row.Reason}`);
}

/** Builds the directory with the cmdlets' operations, schedules one meeting per user, changes each user, migrates. */
async function scheduleAndMigrate(db: Db, run: number, d: Directory): Promise<void> {
  const ctx: DirectoryContext = { db, actor: 'test', now, migrationDelayMs: 0 };
  const domain = `t${run}.example.com`;
  const tenant = await newTenant(ctx, { name: `T${run}`, domains: [domain], meetingUrl: d.meetingUrl, onPremisesMeetingUrl: d.onPremisesMeetingUrl });
  const bridgeNames: string[] = [];
  const online: Bridge[] = [];
  let onPremises = false;
  for (const [i, b] of d.bridges.entries()) {
    const own: boolean = b.onPremises === true && !onPremises;
    onPremises ||= own;
    // Numbers are the tenant's: a number already on an earlier bridge is left out.
    const taken = new Set(d.bridges.slice(0, i).flatMap((x) => [...x.toll, ...(x.tollFree ?? [])].map((n) => n.split(' ')[0])));
    const toll = b.toll.filter((n) => !taken.has(n.split(' ')[0]));
    if (!toll.length) continue;
    const bridge = await newBridge(ctx, tenant.id, {
      name: `B${i}`, tollNumbers: toll, tollFreeNumbers: b.tollFree?.filter((n) => !taken.has(n.split(' ')[0])),
      isDefault: own ? undefined : b.isDefault, onPremises: own || undefined,
    });
    if (!own) {
      bridgeNames.push(bridge.name);
      online.push(bridge);
    }
  }
  const upns: string[] = [];
  for (const [i, u] of d.users.entries()) {
    const upn = `u${i}@${domain}`;
    const sip = u.sipAddress?.replace('contoso.com', domain).replace('@', `${i}@`);
    await newUser(ctx, tenant.id, { userPrincipalName: upn, displayName: `User ${i}`, sipAddress: sip, preferredLanguage: u.preferredLanguage, hostedOn: u.hostedOn });
    upns.push(upn);
    if (u.licensed) await unlessRefused(() => setLicense(ctx, tenant.id, upn, { add: ['AudioConferencing'] }));
    const bridgeName = u.bridge === undefined ? undefined : bridgeNames[u.bridge % Math.max(1, bridgeNames.length)];
    if (bridgeName) await unlessRefused(() => setDialInUser(ctx, tenant.id, upn, { bridgeName }));
    const serving = online.find((b) => b.name === bridgeName) ?? online.find((b) => b.isDefault) ?? online[0];
    if (u.ownNumbers && serving) {
      // The last number of each kind, so that it differs from the bridge's default where the bridge has two.
      const last = (kind: 'Toll' | 'TollFree') => (u.ownNumbers?.[kind === 'Toll' ? 'toll' : 'tollFree'] ? serving.numbers.filter((n) => n.kind === kind).at(-1)?.number : undefined);
      const serviceNumber = last('Toll');
      const tollFreeServiceNumber = last('TollFree');
      if (serviceNumber || tollFreeServiceNumber) await unlessRefused(() => setDialInUser(ctx, tenant.id, upn, { bridgeName: serving.name, serviceNumber, tollFreeServiceNumber }));
    }
    if (u.acp) {
      await setUserAcp(ctx, tenant.id, upn, {
        name: u.acp.name, tollNumber: '+14255550999', tollFreeNumber: u.acp.tollFreeNumber, participantPasscode: '246813', url: u.acp.url,
      });
    }
  }
  for (const [i, upn] of upns.entries()) {
    const start = T0 + (i + 1) * DAY;
    const r = await scheduleMeeting(db, tenant.id, {
      organizer: upn, subject: `Meeting ${i}`, start, end: start + 1_800_000, attendees: [...upns.filter((x) => x !== upn), 'guest@example.org'],
    }, now);
    assert.match(r.joinUrl, /^https?:\/\/\S+$/);
  }
  for (const [i, u] of d.users.entries()) {
    const upn = upns[i]!;
    if (u.change === 'MoveOnline') await unlessRefused(() => moveUser(ctx, tenant.id, upn, 'Online'));
    if (u.change === 'ResetConferenceId') await unlessRefused(() => setDialInUser(ctx, tenant.id, upn, { resetConferenceId: true }));
    if (u.change === 'License') await unlessRefused(() => setLicense(ctx, tenant.id, upn, u.licensed ? { remove: ['AudioConferencing'] } : { add: ['AudioConferencing'] }));
    if (u.change === 'ReplaceProvider') await unlessRefused(() => enableDialIn(ctx, tenant.id, [upn], true));
    const other = bridgeNames[((u.bridge ?? 0) + 1) % Math.max(1, bridgeNames.length)];
    if (u.change === 'OtherBridge' && other) await unlessRefused(() => setDialInUser(ctx, tenant.id, upn, { bridgeName: other }));
    await migrate(db, tenant, upn);
  }
}

/** The DESCRIPTION of the organizer's stored meeting. */
async function descriptionOf(db: Db, tenant: Tenant, upn: string): Promise<string> {
  const user = (await findUser(db.kysely, tenant.id, upn))!;
  const [o] = await new BuiltinMailboxStore(db.kysely, tenant.id, now).listOrganized(user.id, [user.upn], Number.MIN_SAFE_INTEGER);
  assert.ok(o, `${upn} has a meeting`);
  let description = '';
  editEvents(o.ics, (e) => {
    description ||= e.get('DESCRIPTION') ?? '';
  });
  return description;
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: optional directory fields`, { skip: t.skip }, () => {
    let db: Db;
    let drop: () => Promise<void>;
    before(async () => {
      ({ db, drop } = await t.fresh());
    });
    after(async () => {
      await drop?.();
    });

    it('a bridge number without a city label is named by its country, written the way that country writes it', async () => {
      const ctx: DirectoryContext = { db, actor: 'test', now, migrationDelayMs: 0 };
      const tenant = await newTenant(ctx, { name: 'Labels', domains: ['labels.example.com'] });
      await newBridge(ctx, tenant.id, { name: 'B1', tollNumbers: ['+14255550123'] });
      await newBridge(ctx, tenant.id, { name: 'UK', tollNumbers: ['+44 207 555 0100 ()'], tollFreeNumbers: ['+800 1234 5678'] });
      await newUser(ctx, tenant.id, { userPrincipalName: 'amy@labels.example.com', displayName: 'Amy', preferredLanguage: 'fr-FR' });
      await newUser(ctx, tenant.id, { userPrincipalName: 'ben@labels.example.com', displayName: 'Ben' });
      await setLicense(ctx, tenant.id, 'amy@labels.example.com', { add: ['AudioConferencing'] });
      await setLicense(ctx, tenant.id, 'ben@labels.example.com', { add: ['AudioConferencing'] });
      await scheduleMeeting(db, tenant.id, { organizer: 'amy@labels.example.com', subject: 'Revue', start: T0 + DAY, end: T0 + DAY + 1_800_000 }, now);
      assert.match(await descriptionOf(db, tenant, 'amy@labels.example.com'), /\n\+1 425-555-0123 \(États-Unis\) Payant\n/);

      await setDialInUser(ctx, tenant.id, 'ben@labels.example.com', { bridgeName: 'UK' });
      await scheduleMeeting(db, tenant.id, { organizer: 'ben@labels.example.com', subject: 'Review', start: T0 + DAY, end: T0 + DAY + 1_800_000 }, now);
      assert.match(await descriptionOf(db, tenant, 'ben@labels.example.com'), /\n\+44 20 7555 0100 \(United Kingdom\) Toll\n\+800 1234 5678 Toll-free\n/);

      await setDialInUser(ctx, tenant.id, 'amy@labels.example.com', { bridgeName: 'UK' });
      await migrate(db, tenant, 'amy@labels.example.com');
      assert.match(await descriptionOf(db, tenant, 'amy@labels.example.com'), /\n\+44 20 7555 0100 \(Royaume-Uni\) Payant\n\+800 1234 5678 Gratuit\n/);
    });

    it('text with replacement patterns ($$, $&, $1, $\') around the block and in directory names survives scheduling and migration', async () => {
      const ctx: DirectoryContext = { db, actor: 'test', now, migrationDelayMs: 0 };
      const tenant = await newTenant(ctx, { name: 'Dollars', domains: ['dollars.example.com'] });
      await newBridge(ctx, tenant.id, { name: 'B', tollNumbers: ["+14255550123 (Price $$ $& $1 $' City)"] });
      const upn = 'amy@dollars.example.com';
      await newUser(ctx, tenant.id, { userPrincipalName: upn, displayName: 'Amy' });
      await setLicense(ctx, tenant.id, upn, { add: ['AudioConferencing'] });
      const body = "Budget: $$ 100, $& and $1 and $' and $` stay.";
      await scheduleMeeting(db, tenant.id, { organizer: upn, subject: 'Budget', start: T0 + DAY, end: T0 + DAY + 1_800_000, body }, now);
      await setUserAcp(ctx, tenant.id, upn, { name: "Acme $$ $& $1 $'", tollNumber: '+14255550999', participantPasscode: '246813' });
      await migrate(db, tenant, upn);
      const description = await descriptionOf(db, tenant, upn);
      assert.ok(description.startsWith(`${body}\n\n`), description);
      assert.ok(description.includes("\nAudio conferencing provider: Acme $$ $& $1 $'\n"), description);
      assert.ok(description.includes("\n+1 425-555-0999 (Acme $$ $& $1 $') Toll\n"), description);
    });

    it('directory text stored before it was checked (a label across lines, a provider page that is no link) cannot break a block', async () => {
      const ctx: DirectoryContext = { db, actor: 'test', now, migrationDelayMs: 0 };
      const tenant = await newTenant(ctx, { name: 'Legacy', domains: ['legacy.example.com'] });
      await newBridge(ctx, tenant.id, { name: 'B', tollNumbers: ['+14255550123 (Seattle)'] });
      const amy = 'amy@legacy.example.com';
      const ben = 'ben@legacy.example.com';
      for (const upn of [amy, ben]) {
        await newUser(ctx, tenant.id, { userPrincipalName: upn, displayName: upn });
        await setLicense(ctx, tenant.id, upn, { add: ['AudioConferencing'] });
      }
      await setUserAcp(ctx, tenant.id, ben, { name: 'Acme', tollNumber: '+14255550999', participantPasscode: '246813' });
      // As an older version (or a hand-edited database) left them: the cmdlets refuse such values today.
      await db.kysely.updateTable('bridge_numbers').set({ city: 'Sea\nttle' }).where('tenant_id', '=', tenant.id).execute();
      await db.kysely.updateTable('users').set({ acp: JSON.stringify({ name: 'Acme\r\nAudio', tollNumber: '+14255550999', tollFreeNumber: null, participantPasscode: '246813', url: 'acp.example.com/numbers' }) })
        .where('tenant_id', '=', tenant.id).where('upn', '=', ben).execute();
      await scheduleMeeting(db, tenant.id, { organizer: amy, subject: 'A', start: T0 + DAY, end: T0 + DAY + 1_800_000 }, now);
      await scheduleMeeting(db, tenant.id, { organizer: ben, subject: 'B', start: T0 + DAY, end: T0 + DAY + 1_800_000 }, now);
      assert.match(await descriptionOf(db, tenant, amy), /\n\+1 425-555-0123 \(Sea ttle\) Toll\n/);
      const acp = await descriptionOf(db, tenant, ben);
      assert.match(acp, /\nAudio conferencing provider: Acme Audio\n/);
      assert.doesNotMatch(acp, /Find a local number/);
      await assert.rejects(async () => setUserAcp(ctx, tenant.id, ben, { name: 'Acme', tollNumber: '+14255550999', participantPasscode: '246813', url: 'acp.example.com' }), /Url 'acp\.example\.com' is not an http\(s\) link/);
      await assert.rejects(async () => newBridge(ctx, tenant.id, { name: 'C', tollNumbers: ['+14255550124 (Bell\u0007)'] }), /control character/);
    });

    it('property: with optional tenant, bridge and user fields empty or absent, scheduling and migrating never fail', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(directoryArb, (d) => scheduleAndMigrate(db, run++, d)),
        { numRuns: 15, endOnFailure: true },
      );
    });
  });
}
