import type { Kysely } from 'kysely';
import { meetingTypeOf } from '../../domain/meeting-block/index.js';
import { indexObject } from '../../ical/index.js';
import type { Dialect } from '../db.js';

// domain/directory.ts DEFAULT_TEAMS_MEETING_URL as of this migration (a migration keeps the value it was written with).
const DEFAULT_TEAMS_MEETING_URL = 'https://teams.microsoft.com/l/meetup-join';

/**
 * Meeting types (issue 12 §1). Each tenant has a Teams meeting URL beside its Skype one; each stored object says
 * whether it is a Skype for Business or a Teams meeting (null: no online meeting), derived from its text as every
 * write derives it from now on; each ledger row says the meeting's type before and after its migration, so a
 * conversion shows in Get-CsMeetingMigrationTransactionHistory.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('tenants').addColumn('teams_meeting_url', 'text', (c) => c.notNull().defaultTo(DEFAULT_TEAMS_MEETING_URL)).execute();
  await db.schema.alterTable('calendar_objects').addColumn('meeting_type', 'text').execute();
  await db.schema.alterTable('migration_meetings').addColumn('meeting_type', 'text').execute();
  await db.schema.alterTable('migration_meetings').addColumn('new_meeting_type', 'text').execute();
  await backfillMeetingTypes(db);
}

/** Types the objects stored before 018 from their text, a chunk at a time (an object that no longer parses has none). */
export async function backfillMeetingTypes(db: Kysely<any>): Promise<void> {
  for (let after = -1; ;) {
    const rows = await db.selectFrom('calendar_objects').select(['id', 'ics']).where('id', '>', after).orderBy('id').limit(500).execute() as Array<{ id: number | string; ics: string }>;
    if (!rows.length) break;
    for (const r of rows) {
      let type: string | null = null;
      try {
        const ix = indexObject(r.ics);
        type = meetingTypeOf({ xProps: ix.xProps, description: ix.description });
      } catch {
        type = null;
      }
      if (type !== null) await db.updateTable('calendar_objects').set({ meeting_type: type }).where('id', '=', r.id).execute();
    }
    after = Number(rows[rows.length - 1]!.id);
  }
}
