import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/** The first schema: tenants, bridges, users, audit, migration requests, calendar objects. */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  const serial = <T extends string>(t: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'id'> =>
    dialect === 'postgres'
      ? t.addColumn('id', 'bigserial', (c) => c.primaryKey())
      : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await db.schema.createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('domains', 'text', (c) => c.notNull())
    .addColumn('meeting_url', 'text', (c) => c.notNull())
    .addColumn('on_premises_meeting_url', 'text', (c) => c.notNull())
    .addColumn('meeting_migration_enabled', 'integer', (c) => c.notNull())
    .addColumn('automatically_migrate_user_meetings', 'integer', (c) => c.notNull())
    .addColumn('automatically_replace_acp_provider', 'integer', (c) => c.notNull())
    .addColumn('preserve_edited_blocks', 'integer', (c) => c.notNull())
    .addColumn('pin_length', 'integer', (c) => c.notNull())
    .addColumn('max_meeting_attendees', 'integer', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('tenants_name').unique().on('tenants').expression(sql`lower(name)`).execute();

  await db.schema.createTable('bridges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('is_default', 'integer', (c) => c.notNull())
    .addColumn('on_premises', 'integer', (c) => c.notNull())
    .addColumn('default_toll_number', 'text')
    .addColumn('default_toll_free_number', 'text')
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('bridges_name').unique().on('bridges').columns(['tenant_id']).expression(sql`lower(name)`).execute();

  await db.schema.createTable('bridge_numbers')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('bridge_id', 'text', (c) => c.notNull().references('bridges.id'))
    .addColumn('number', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('city', 'text', (c) => c.notNull())
    .addColumn('languages', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('bridge_numbers_pk', ['tenant_id', 'number'])
    .execute();

  await db.schema.createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('upn', 'text', (c) => c.notNull())
    .addColumn('sip_address', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('preferred_language', 'text', (c) => c.notNull())
    .addColumn('hosted_on', 'text', (c) => c.notNull())
    .addColumn('mailbox_location', 'text', (c) => c.notNull())
    .addColumn('licenses', 'text', (c) => c.notNull())
    .addColumn('ac_provider', 'text', (c) => c.notNull())
    .addColumn('acp', 'text')
    .addColumn('ac_enabled', 'integer', (c) => c.notNull())
    .addColumn('bridge_id', 'text')
    .addColumn('toll_number', 'text')
    .addColumn('toll_free_number', 'text')
    .addColumn('conference_id', 'text', (c) => c.notNull())
    .addColumn('leader_pin_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('modified_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('users_upn').unique().on('users').columns(['tenant_id', 'upn']).execute();
  await db.schema.createIndex('users_sip').unique().on('users').columns(['tenant_id', 'sip_address']).execute();
  await db.schema.createIndex('users_conference_id').unique().on('users').columns(['tenant_id', 'conference_id']).execute();

  await db.schema.createTable('audit_log')
    .$call(serial)
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('at', big, (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('cmdlet', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('changes', 'text', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('correlation_id', 'text')
    .execute();
  await db.schema.createIndex('audit_tenant_at').on('audit_log').columns(['tenant_id', 'at']).execute();
  await db.schema.createIndex('audit_user').on('audit_log').columns(['user_id', 'at']).execute();

  await db.schema.createTable('migration_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('migration_type', 'text', (c) => c.notNull())
    .addColumn('trigger_reasons', 'text', (c) => c.notNull())
    .addColumn('create_date', big, (c) => c.notNull())
    .addColumn('modified_date', big, (c) => c.notNull())
    .addColumn('not_before', big, (c) => c.notNull())
    .addColumn('retry_count', 'integer', (c) => c.notNull())
    .addColumn('total_meeting', 'integer', (c) => c.notNull())
    .addColumn('succeeded_meeting', 'integer', (c) => c.notNull())
    .addColumn('failed_meeting', 'integer', (c) => c.notNull())
    .addColumn('skipped_meeting', 'integer', (c) => c.notNull())
    .addColumn('invites_update', 'integer', (c) => c.notNull())
    .addColumn('last_message', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', big)
    .execute();
  // A trigger is an upsert on this index: at most one Pending request per user.
  await db.schema.createIndex('migration_requests_one_pending').unique().on('migration_requests')
    .column('user_id').where(sql.ref('state'), '=', 'Pending').execute();
  await db.schema.createIndex('migration_requests_runnable').on('migration_requests').columns(['state', 'not_before']).execute();
  await db.schema.createIndex('migration_requests_user').on('migration_requests').columns(['user_id', 'create_date']).execute();

  await db.schema.createTable('calendar_objects')
    .$call(serial)
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('mailbox_user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('uid', 'text', (c) => c.notNull())
    .addColumn('ics', 'text', (c) => c.notNull())
    .addColumn('organizer', 'text')
    .addColumn('first_start', big)
    .addColumn('last_end', big)
    .addColumn('attendee_count', 'integer', (c) => c.notNull())
    .addColumn('online_meeting_id', 'text')
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('modified_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('calendar_objects_uid').unique().on('calendar_objects').columns(['mailbox_user_id', 'uid']).execute();
  await db.schema.createIndex('calendar_objects_organizer').on('calendar_objects').columns(['tenant_id', 'organizer', 'last_end']).execute();
}
