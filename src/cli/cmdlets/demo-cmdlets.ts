import { DEFAULT_DEMO_SEED, loadDemo, type DemoSummary } from '../../demo/index.js';
import { usageError } from '../../domain/errors.js';
import type { Cmdlet } from '../cmdlet.js';
import { num } from './shared.js';

/** The summary with the cmdlet's PascalCase field names; NextSteps one command per line. */
export function demoSummaryView(s: DemoSummary): Record<string, unknown> {
  const u = s.users;
  const m = s.meetings;
  return {
    Tenant: s.tenant.name,
    TenantId: s.tenant.id,
    Domain: s.tenant.domain,
    Seed: s.seed,
    Bridges: s.bridges,
    Users: u.total,
    Languages: u.languages,
    HomedOnline: u.homedOnline,
    HomedOnPremises: u.homedOnPremises,
    ProviderMicrosoft: u.providerMicrosoft,
    ProviderThirdParty: u.providerThirdParty,
    ProviderNone: u.providerNone,
    Licensed: u.licensed,
    ReadyToMove: u.readyToMove,
    MailboxOnPremises: u.mailboxOnPremises,
    Meetings: m.total,
    RecurringSeries: m.series,
    SeriesWithExceptions: m.seriesWithExceptions,
    PastMeetings: m.past,
    PastedBlocks: m.pastedBlocks,
    MaxAttendees: m.maxAttendees,
    AttendeeCopies: m.attendeeCopies,
    MigrationRequests: s.migrationRequests,
    ElapsedMs: s.elapsedMs,
    NextSteps: s.nextSteps.map((n) => n.command).join('\n'),
  };
}

export const DEMO_CMDLETS: Cmdlet[] = [
  {
    name: 'Initialize-MmsDemo',
    area: 'Organization',
    synopsis: 'Loads the Contoso demo organization (3 bridges, 50 users in 7 languages, 500 meetings) into a new database (MMS_DATABASE_URL).',
    params: [
      { name: 'Seed', type: 'int', help: `Seed of the generator: the same seed gives the same users and meetings (default ${DEFAULT_DEMO_SEED}).` },
    ],
    examples: ['npx mms Initialize-MmsDemo', 'npx mms Initialize-MmsDemo -Seed 7 --json'],
    async run(ctx, a) {
      const seed = num(a, 'Seed');
      if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff)) {
        throw usageError(`Seed ${seed} is out of range: give a whole number from 0 to 4294967295`);
      }
      const summary = await loadDemo(ctx.db, { now: ctx.now(), actor: ctx.actor, seed });
      return { kind: 'object', value: demoSummaryView(summary) };
    },
  },
];
