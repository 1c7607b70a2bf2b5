import { performance } from 'node:perf_hooks';
import type { DirectoryContext } from '../directory/index.js';
import { conflict } from '../domain/errors.js';
import { listTenants } from '../store/directory-repo.js';
import { listRequests } from '../store/requests-repo.js';
import type { Db } from '../store/index.js';
import { checkpointWal } from '../store/checkpoint.js';
import { ACP, ALL_HANDS_ORGANIZER, CONTOSO, MOVE_CANDIDATE, PASTED_BLOCK_ORGANIZER, upnOf, USERS } from './contoso-directory.js';
import { loadCalendar } from './load-calendar.js';
import { planMeetings } from './meeting-plan.js';
import { prng } from './prng.js';
import { provisionDirectory } from './provision.js';

/** The seed `Initialize-MmsDemo` uses without -Seed. */
export const DEFAULT_DEMO_SEED = 20_251_121;

export interface LoadDemoOptions {
  /** The present: meetings are planned around it, and every directory change is stamped with it. */
  readonly now: number;
  /** Who the audit log names (default `Initialize-MmsDemo`). */
  readonly actor?: string;
  readonly seed?: number;
}

export interface DemoSummary {
  readonly tenant: { readonly id: string; readonly name: string; readonly domain: string };
  readonly seed: number;
  readonly bridges: readonly string[];
  readonly users: {
    readonly total: number;
    readonly homedOnline: number;
    readonly homedOnPremises: number;
    readonly providerMicrosoft: number;
    readonly providerThirdParty: number;
    readonly providerNone: number;
    readonly licensed: number;
    /** Licensed but still on the third-party provider (Get-CsOnlineDialInConferencingUser -ReadyToMove). */
    readonly readyToMove: number;
    readonly mailboxOnPremises: number;
    readonly languages: readonly string[];
  };
  readonly meetings: {
    /** Calendar objects in the organizers' mailboxes. */
    readonly total: number;
    readonly oneOff: number;
    readonly series: number;
    readonly seriesWithExceptions: number;
    /** Meetings entirely in the past. */
    readonly past: number;
    /** Meetings with a copy-pasted block and no metadata (migrations skip them). */
    readonly pastedBlocks: number;
    readonly maxAttendees: number;
    /** Copies in internal attendees' mailboxes. */
    readonly attendeeCopies: number;
  };
  /** Migration requests left queued by the setup (0: it is built in an order that queues nothing). */
  readonly migrationRequests: number;
  readonly elapsedMs: number;
  /** Command lines worth trying next. */
  readonly nextSteps: readonly NextStep[];
}

async function refuseIfLoaded(db: Db): Promise<void> {
  const tenants = await listTenants(db.kysely);
  const name = CONTOSO.name.toLowerCase();
  const there = tenants.find((t) => t.name.toLowerCase() === name || t.domains.includes(CONTOSO.domain));
  if (there) {
    const how = there.name.toLowerCase() === name ? '' : ` with the domain ${CONTOSO.domain}`;
    throw conflict(
      `this database already holds a tenant named ${there.name}${how}; use a fresh database (MMS_DATABASE_URL) ` +
        `or -Tenant ${there.name} to work with the one that is there`,
    );
  }
}

/**
 * Initialize-MmsDemo: loads the Contoso demo organization — three bridges, 50 users in seven languages in every
 * state the migration rules distinguish, and 500 meetings (series with exceptions, past meetings, a
 * 300-attendee all-hands, pasted blocks) — through the same directory and meeting operations an admin uses.
 * The same seed and `now` give the same users and meetings. The setup leaves no migration request behind.
 *
 * @throws MmsError('Conflict') when the database already holds Contoso.
 */
export async function loadDemo(db: Db, opts: LoadDemoOptions): Promise<DemoSummary> {
  const started = performance.now();
  await refuseIfLoaded(db);
  const seed = opts.seed ?? DEFAULT_DEMO_SEED;
  const now = (): number => opts.now;
  // The delay is irrelevant: nothing is queued (see provisionDirectory).
  const ctx: DirectoryContext = { db, actor: opts.actor ?? 'Initialize-MmsDemo', now, migrationDelayMs: 0 };
  const dir = await provisionDirectory(ctx);
  const plan = planMeetings(prng(seed), opts.now);
  const calendar = await loadCalendar(db, dir, plan, now);
  // Thousands of small transactions just ended: fold the WAL into the database so that it starts over small.
  await checkpointWal(db);
  const requests = await listRequests(db.kysely, dir.tenant.id);

  const users = [...dir.users.values()];
  const count = (f: (u: (typeof users)[number]) => boolean): number => users.filter(f).length;
  const licensed = (u: (typeof users)[number]): boolean => u.licenses.includes('AudioConferencing');
  const m = plan.meetings;
  return {
    tenant: { id: dir.tenant.id, name: dir.tenant.name, domain: CONTOSO.domain },
    seed,
    bridges: dir.bridges.map((b) => b.name),
    users: {
      total: users.length,
      homedOnline: count((u) => u.hostedOn === 'Online'),
      homedOnPremises: count((u) => u.hostedOn === 'OnPremises'),
      providerMicrosoft: count((u) => u.acProvider === 'Microsoft'),
      providerThirdParty: count((u) => u.acProvider === 'ThirdParty'),
      providerNone: count((u) => u.acProvider === 'None'),
      licensed: count(licensed),
      readyToMove: count((u) => licensed(u) && u.acProvider === 'ThirdParty'),
      mailboxOnPremises: count((u) => u.mailboxLocation === 'OnPremises'),
      languages: [...new Set(USERS.map((u) => u.language))],
    },
    meetings: {
      total: calendar.meetings,
      oneOff: m.filter((x) => x.kind === 'single' || x.kind === 'allHands').length + plan.pasted.length,
      series: m.filter((x) => x.kind === 'series').length,
      seriesWithExceptions: m.filter((x) => x.exceptions).length,
      past: m.filter((x) => x.kind === 'past').length,
      pastedBlocks: plan.pasted.length,
      maxAttendees: Math.max(...m.map((x) => x.attendees.length)),
      attendeeCopies: calendar.attendeeCopies,
    },
    migrationRequests: requests.length,
    elapsedMs: Math.round(performance.now() - started),
    nextSteps: nextSteps(),
  };
}

/** One thing to try: the command line and what it shows. */
export interface NextStep {
  readonly command: string;
  readonly why: string;
}

function nextSteps(): NextStep[] {
  const ready = USERS.find((u) => u.kind === 'AcpReady');
  const mover = upnOf(MOVE_CANDIDATE);
  return [
    { command: 'npx mms Get-CsOnlineDialInConferencingUser -ReadyToMove', why: `licensed users still on ${ACP.name}` },
    { command: `npx mms Get-MmsMeeting -Identity ${mover} -Organizer`, why: 'an on-premises user\'s meetings, series with exceptions among them' },
    { command: `npx mms Move-CsUser -Identity ${mover} -Target Online`, why: 'moving her online queues the migration of those meetings' },
    { command: `npx mms Start-CsExMeetingMigration -Identity ${mover} -WhatIf`, why: 'what the migration will change in each meeting, without writing' },
    { command: `npx mms Get-CsMeetingMigrationStatus -Identity ${mover}`, why: 'the request, as the worker (npm start) runs it' },
    { command: `npx mms Get-MmsAuditLog -Identity ${mover}`, why: 'what was changed and why MMS did (not) migrate' },
    {
      command: `npx mms Start-CsExMeetingMigration -Identity ${upnOf(ALL_HANDS_ORGANIZER)},${upnOf(PASTED_BLOCK_ORGANIZER)} -WhatIf`,
      why: 'meetings MMS skips: the 300-attendee all-hands and a pasted block without metadata',
    },
    ...(ready ? [{ command: `npx mms Enable-CsOnlineDialInConferencingUser -Identity ${upnOf(ready.alias)} -ReplaceProvider`, why: `switch from ${ACP.name} to Microsoft` }] : []),
    { command: 'npx mms Set-CsOnlineDialInConferencingUser -Identity camille.dubois@contoso.com -ResetConferenceId', why: 'a new conference ID migrates an EU user\'s meetings' },
  ];
}

/**
 * Loads the demo when the database holds no tenant at all (what `mms serve` does on first start when MMS_DEMO
 * is on); returns null when there is already something there.
 */
export async function loadDemoIfEmpty(db: Db, opts: LoadDemoOptions): Promise<DemoSummary | null> {
  if ((await listTenants(db.kysely)).length) return null;
  return loadDemo(db, opts);
}

/** The summary as a few lines for a log or a terminal: what was loaded and what to try next. */
export function describeDemo(s: DemoSummary): string {
  const u = s.users;
  const m = s.meetings;
  return [
    `Loaded the ${s.tenant.name} demo (${s.tenant.domain}) in ${s.elapsedMs} ms: bridges ${s.bridges.join(', ')}.`,
    `${u.total} users in ${u.languages.length} languages: ${u.homedOnline} homed online, ${u.homedOnPremises} on-premises; ` +
      `${u.providerMicrosoft} on Microsoft audio conferencing, ${u.providerThirdParty} on a third-party provider (${u.readyToMove} ready to move), ` +
      `${u.licensed} licensed, ${u.mailboxOnPremises} with an on-premises mailbox.`,
    `${m.total} meetings: ${m.series} recurring series (${m.seriesWithExceptions} with exceptions), ${m.past} in the past, ` +
      `${m.pastedBlocks} with a pasted block, up to ${m.maxAttendees} attendees; ${m.attendeeCopies} attendee copies.`,
    `Migration requests queued by the setup: ${s.migrationRequests}.`,
    'Try next:',
    ...s.nextSteps.map((n) => `  ${n.command}\n      ${n.why}`),
  ].join('\n');
}
