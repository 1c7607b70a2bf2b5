// Issue 12 tests: what a Teams block must look like (written out by hand, not by the renderer), the join link our
// Teams-style links have, a Teams meeting as Exchange exports it (for amy), a recurring series with a moved and a
// cancelled exception, a migration of a given MigrationType through the internal start path (startMigration) and
// one worker, and an independent reading of stored texts by python-icalendar.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ACTOR } from './directory-fixture.js';
import { SERVICE_ADDRESS, U80, type MigrationFixture } from './migration-fixture.js';
import { editEvents } from '../../src/ical/index.js';
import { MigrationWorker, startMigration } from '../../src/migration/index.js';
import { listRequests, type MigrationRequest } from '../../src/store/requests-repo.js';
import type { MigrationType } from '../../src/domain/migration.js';
import type { SecretBox } from '../../src/secrets/index.js';

/** The Teams join link of a meeting id for a tenant and organizer, as Teams writes it (lower-case escapes). */
export const teamsLink = (meetingId: string, tenantId: string, organizerId: string, base = 'https://teams.microsoft.com/l/meetup-join'): string =>
  `${base}/19%3ameeting_${meetingId}%40thread.v2/0?context=%7b%22Tid%22%3a%22${tenantId}%22%2c%22Oid%22%3a%22${organizerId}%22%7d`;

/** The English Teams block: heading, join label and link, then the dial-in lines of `dialIn` (a block's lines after its join link). */
export function expectedTeamsBlock(joinUrl: string, dialIn: readonly string[]): string {
  return [U80, 'Microsoft Teams meeting', 'Click here to join the meeting', joinUrl, ...dialIn, U80].join('\n');
}

/** The lines of a block after its join link and before its closing delimiter: its dial-in part. */
export function dialInLines(block: string, joinUrl: string): string[] {
  const lines = block.split('\n');
  const at = lines.indexOf(joinUrl);
  assert.ok(at > 0, `no join link ${joinUrl} on a line of its own in ${block}`);
  return lines.slice(at + 1, -1);
}

/** The Exchange export of a Teams meeting (test/fixtures/ics/exchange/teams-meetingurl.ics), organized by `upn`. */
export function exchangeTeamsMeeting(upn: string): { ics: string; uid: string; meetingId: string } {
  const text = fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'ics', 'exchange', 'teams-meetingurl.ics'), 'utf8');
  const ics = text.replace(/ashaw@contoso\.com/g, upn);
  const uid = /^UID:([^\r\n]*(?:\r?\n [^\r\n]*)*)/m.exec(ics)?.[1]?.replace(/\r?\n /g, '') ?? '';
  assert.ok(uid, 'fixture: the Teams export has a UID');
  return { ics, uid, meetingId: 'NjQ5ZjM2YzEtYjM5Ny00ZWY2LWJmNjQtYjg4ZDk2ZWQ5ZGI0' };
}

/**
 * A weekly series of an add-in meeting text (master with RRULE) with the 10 March occurrence moved to Tuesday 14:00
 * and the 17 March one cancelled, each exception carrying the same block as the master, in one VCALENDAR.
 */
export function withExceptions(master: string): string {
  const exception = (recurrenceId: string, start: string, end: string, cancelled: boolean) => editEvents(master, (e) => {
    e.remove('RRULE');
    e.add('RECURRENCE-ID', recurrenceId);
    e.set('DTSTART', start);
    e.set('DTEND', end);
    e.set('SEQUENCE', '1');
    if (cancelled) e.add('STATUS', 'CANCELLED');
  });
  // One VCALENDAR holding the master and its exceptions, as a CalDAV server wants one object (RFC 4791 §4.1).
  const vevent = (ics: string) => /BEGIN:VEVENT\r\n[\s\S]*?END:VEVENT\r\n/.exec(ics)?.[0] ?? assert.fail('fixture: no VEVENT');
  const extra = vevent(exception('20250310T100000Z', '20250311T140000Z', '20250311T150000Z', false)) + vevent(exception('20250317T100000Z', '20250317T100000Z', '20250317T110000Z', true));
  const end = master.lastIndexOf('END:VCALENDAR');
  assert.ok(end > 0, 'fixture: no END:VCALENDAR');
  return master.slice(0, end) + extra + master.slice(end);
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Starts a migration of `migrationType` for a user through startMigration (as the cmdlets do) and runs it once. */
export async function migrateAs(fx: MigrationFixture, migrationType: MigrationType, opts: { name?: string; secrets?: SecretBox } = {}): Promise<MigrationRequest> {
  const now = () => fx.clock.now;
  const [r] = await startMigration(fx.db, await fx.currentTenant(), [fx.address(opts.name ?? 'amy')], { actor: ACTOR, now }, migrationType);
  assert.ok(r && r.status === 'Queued', `fixture: startMigration: ${JSON.stringify(r)}`);
  const worker = new MigrationWorker({ db: fx.db, now, logger: silent, workerId: 'test-worker', serviceAddress: SERVICE_ADDRESS, secrets: opts.secrets, davTimeoutMs: 10_000 });
  assert.equal(await worker.runOnce([r.correlationId]), true, 'fixture: the worker found nothing to run');
  const request = (await listRequests(fx.db.kysely, fx.tenant.id)).find((x) => x.correlationId === r.correlationId);
  assert.ok(request);
  assert.equal(request.migrationType, migrationType, 'fixture: the request does what it was started for (also when merged into a Pending one)');
  return request;
}

/** One VEVENT as python-icalendar (not our parser) reads it. */
export interface PyEvent {
  readonly recurrenceId: string | null;
  readonly description: string | null;
  readonly html: string | null;
  readonly location: string | null;
  readonly joinUrl: string | null;
  readonly conferences: string[];
  readonly sequence: number | null;
  readonly status: string | null;
}

const SCRIPT = String.raw`
import json, sys, icalendar
out = []
for text in json.load(sys.stdin):
    cal = icalendar.Calendar.from_ical(text)
    events = []
    for e in cal.walk('VEVENT'):
        def s(name):
            v = e.get(name)
            return None if v is None else str(v)
        conf = e.get('CONFERENCE')
        conf = [] if conf is None else (conf if isinstance(conf, list) else [conf])
        rid = e.get('RECURRENCE-ID')
        seq = e.get('SEQUENCE')
        events.append({'recurrenceId': None if rid is None else rid.to_ical().decode(), 'description': s('DESCRIPTION'), 'html': s('X-ALT-DESC'),
            'location': s('LOCATION'), 'joinUrl': s('X-MICROSOFT-SKYPETEAMSMEETINGURL'), 'conferences': [str(c) for c in conf],
            'sequence': None if seq is None else int(seq), 'status': s('STATUS')})
    out.append(events)
json.dump(out, sys.stdout)
`;

/** Reads each text with python-icalendar; fails the test when it cannot. */
export function readWithPython(texts: readonly string[]): PyEvent[][] {
  const r = spawnSync('/usr/bin/python3', ['-c', SCRIPT], { input: JSON.stringify(texts), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `python-icalendar could not read the texts: ${r.stderr}`);
  return JSON.parse(r.stdout) as PyEvent[][];
}
