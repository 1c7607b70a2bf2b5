// Issue 9 §3: a CorrelationId may be given as an unambiguous prefix of 8 or more characters (any case), like git's
// abbreviated hashes, wherever one is accepted — Undo-MmsMeetingMigration, Get-CsMeetingMigrationTransactionHistory
// and Get-MmsOutbox -CorrelationId — resolved against the tenant's own migrations on SQLite and PostgreSQL; a prefix
// two migrations share is a one-line usage error (exit 2) listing them, an unknown one a one-line NotFound (exit 1).
// Also (§4): the status queries refuse an empty identity instead of listing every user.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { REF, withQueue, type CliRun, type QueueFixture } from './helpers/queue-fixture.js';
import { setDialInUser } from '../src/directory/index.js';
import { migrationStatus, migrationSummary, outboxPage, resolveCorrelationId, transactionHistory } from '../src/migration/index.js';
import { MmsError } from '../src/domain/errors.js';

type Row = Record<string, unknown>;

async function ok(q: QueueFixture, argv: readonly string[]): Promise<Row[] | Row> {
  const r = await q.cli([...argv, '--json']);
  assert.equal(r.stderr, '', `mms ${argv.join(' ')}`);
  assert.equal(r.code, 0);
  return JSON.parse(r.stdout) as Row[] | Row;
}

/** amy's meeting migrated after a conference ID reset: the request's id (its history and outbox are not empty). */
async function migratedAmy(q: QueueFixture): Promise<string> {
  await q.schedule('amy', 1);
  await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
  const started = await q.cli(['Start-CsExMeetingMigration', '-Identity', q.upn('amy'), '-Wait']);
  assert.equal(started.code, 0, started.stderr);
  const [row] = (await ok(q, ['Get-CsMeetingMigrationStatus'])) as Row[];
  assert.equal(row?.InvitesUpdate, 1);
  return String(row?.CorrelationId);
}

/** A copy of request `id`'s row under `twinId` (in `tenantId`/`userId` when given): another migration's id. */
async function twin(q: QueueFixture, id: string, twinId: string, owner?: { tenantId: string; userId: string }): Promise<void> {
  const row = await q.row(id);
  await q.db.kysely.insertInto('migration_requests').values({ ...row, id: twinId, ...(owner ? { tenant_id: owner.tenantId, user_id: owner.userId } : {}) }).execute();
}

/** `id` with its characters from `from` on replaced by other hex digits (the dashes kept). */
const differentFrom = (id: string, from: number, digit: string): string =>
  id.slice(0, from) + [...id.slice(from)].map((c) => (c === '-' ? '-' : c === digit ? (digit === '0' ? '1' : '0') : digit)).join('');

function oneLine(r: CliRun, code: number, pattern: RegExp): void {
  assert.equal(r.stdout, '');
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, /^mms: [^\n]+\n$/);
  assert.match(r.stderr, pattern);
}

for (const database of TEST_DATABASES) {
  describe(`${database.name}: short CorrelationIds`, { skip: database.skip }, () => {
    it('an 8-character prefix, in any case, works for the history, the outbox and Undo like the whole id', () =>
      withQueue(database, () => REF, async (q) => {
        const id = await migratedAmy(q);
        const short = id.slice(0, 8).toUpperCase();
        const history = (await ok(q, ['Get-CsMeetingMigrationTransactionHistory', q.upn('amy'), '-CorrelationId', id])) as Row[];
        assert.equal(history.length, 1);
        assert.deepEqual(await ok(q, ['Get-CsMeetingMigrationTransactionHistory', q.upn('amy'), '-CorrelationId', short]), history);
        const outbox = (await ok(q, ['Get-MmsOutbox', '-CorrelationId', id])) as Row[];
        assert.ok(outbox.length > 0);
        assert.deepEqual(await ok(q, ['Get-MmsOutbox', '-CorrelationId', id.slice(0, 13)]), outbox);
        // -Force: the conference ID was reset since, which undo otherwise refuses to put back.
        const undo = (await ok(q, ['Undo-MmsMeetingMigration', short, '-Force'])) as Row;
        assert.equal(undo.Restored, 1);
        const restored = (await ok(q, ['Get-CsMeetingMigrationTransactionHistory', q.upn('amy'), '-CorrelationId', String(undo.CorrelationId)])) as Row[];
        assert.deepEqual(restored.map((r) => [r.Action, r.Reason]), [['Restored', `restored the block replaced by ${id}`]]);
        assert.equal(await resolveCorrelationId(q.db, q.fx.tenant, ` ${id.toUpperCase()} `), id);
      }));

    it('a prefix two migrations share is refused naming both; more characters pick one; an unknown one is not found', () =>
      withQueue(database, () => REF, async (q) => {
        const id = await migratedAmy(q);
        const other = differentFrom(id, 11, 'a'); // shares 11 characters ("xxxxxxxx-xx")
        await twin(q, id, other);
        const both = [id, other].sort().join(', ');
        const ambiguous = new RegExp(`^mms: -CorrelationId ${id.slice(0, 8)} is ambiguous: 2 migrations start with it \\(${both}\\); give more of its characters\\n$`);
        oneLine(await q.cli(['Undo-MmsMeetingMigration', id.slice(0, 8)]), 2, ambiguous);
        oneLine(await q.cli(['Get-CsMeetingMigrationTransactionHistory', q.upn('amy'), '-CorrelationId', id.slice(0, 8).toUpperCase()]), 2, ambiguous);
        oneLine(await q.cli(['Get-MmsOutbox', '-CorrelationId', id.slice(0, 11)]), 2, /-CorrelationId \S{11} is ambiguous: 2 migrations/);
        assert.equal(((await ok(q, ['Get-CsMeetingMigrationTransactionHistory', q.upn('amy'), '-CorrelationId', id.slice(0, 12)])) as Row[]).length, 1);
        assert.deepEqual(await ok(q, ['Get-CsMeetingMigrationTransactionHistory', q.upn('amy'), '-CorrelationId', other.slice(0, 12)]), []);

        // Five sharing a prefix: four are listed.
        for (const d of ['b', 'c', 'd']) await twin(q, id, differentFrom(id, 11, d));
        oneLine(await q.cli(['Undo-MmsMeetingMigration', id.slice(0, 9)]), 2, /is ambiguous: more than 4 migrations start with it \((\S+, ){3}\S+, …\); give more/);

        const ids = new Set((await q.db.kysely.selectFrom('migration_requests').select('id').execute()).map((r) => r.id.slice(0, 8)));
        const unknown = ['ffffffff', 'eeeeeeee', 'dddddddd'].find((p) => !ids.has(p))!;
        const notFound = new RegExp(`^mms: no migration ${unknown} in tenant Contoso: Get-CsMeetingMigrationStatus lists CorrelationIds\\n$`);
        oneLine(await q.cli(['Undo-MmsMeetingMigration', unknown.toUpperCase()]), 1, notFound);
        oneLine(await q.cli(['Get-CsMeetingMigrationTransactionHistory', q.upn('amy'), '-CorrelationId', unknown]), 1, notFound);
      }));

    it('another tenant\'s migrations are neither found nor counted', () =>
      withQueue(database, () => REF, async (q) => {
        const id = await migratedAmy(q);
        const fabrikam = await q.fx.addTenant({ name: 'Fabrikam', domain: 'fabrikam.com', users: [{ name: 'zoe', licensed: true }] });
        const theirs = differentFrom(id, 8, 'a');
        await twin(q, id, theirs, { tenantId: fabrikam.tenant.id, userId: await fabrikam.userId('zoe') });
        assert.equal(await resolveCorrelationId(q.db, q.fx.tenant, id.slice(0, 8)), id);
        assert.equal(await resolveCorrelationId(q.db, fabrikam.tenant, id.slice(0, 8)), theirs);
        await assert.rejects(resolveCorrelationId(q.db, fabrikam.tenant, id.slice(0, 12)), (e) => e instanceof MmsError && e.code === 'NotFound' && e.message.startsWith(`no migration ${id.slice(0, 12)} in tenant Fabrikam`));
        // A whole id is taken as given (a filter by it lists what carries it); Undo says when no migration has it.
        assert.equal(await resolveCorrelationId(q.db, fabrikam.tenant, id.toUpperCase()), id);
        oneLine(await q.cli(['Undo-MmsMeetingMigration', id, '-Tenant', 'Fabrikam']), 1, new RegExp(`^mms: no migration ${id} in tenant Fabrikam`));
        const undo = (await ok(q, ['Undo-MmsMeetingMigration', id.slice(0, 8), '-Tenant', 'Contoso', '-Force'])) as Row;
        assert.equal(undo.Restored, 1);
      }));
  });

  describe(`${database.name}: status queries refuse an empty identity`, { skip: database.skip }, () => {
    it('migrationStatus, migrationSummary, transactionHistory, outboxPage and resolveCorrelationId refuse "" and blanks', () =>
      withQueue(database, () => REF, async (q) => {
        await migratedAmy(q);
        const usage = (e: unknown) => e instanceof MmsError && e.code === 'Usage';
        const t = q.fx.tenant;
        for (const identity of ['', '  ']) {
          await assert.rejects(migrationStatus(q.db, t, { identity }), (e) => usage(e) && /^-Identity is empty: give a user's UPN or SIP address/.test((e as Error).message));
          await assert.rejects(migrationSummary(q.db, t, { identity }), usage);
          await assert.rejects(transactionHistory(q.db, t, { identity }), usage);
          await assert.rejects(outboxPage(q.db, t, { identity }), usage);
          await assert.rejects(resolveCorrelationId(q.db, t, identity), usage);
          await assert.rejects(outboxPage(q.db, t, { correlationId: identity }), usage);
        }
        // Not given at all: every user.
        assert.equal((await migrationStatus(q.db, t, {})).length, 1);
        assert.equal((await outboxPage(q.db, t, {})).rows.length > 0, true);
      }));
  });
}
