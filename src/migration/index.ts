export { MigrationWorker, RECONNECT_FIRST_MS, RECONNECT_MAX_MS, isTransient, type Logger, type WorkerOptions } from './worker.js';
export { migrateUser, type MeetingResult, type MigrateOptions } from './migrate-user.js';
export { startMigration, type StartResult } from './start.js';
export { undoMigration, type UndoResult } from './undo.js';
export { resolveCorrelationId } from './resolve-correlation-id.js';
export {
  migrationStatus, migrationStatusPage, migrationSummary, statusProperties, transactionHistory, transactionHistoryPage, outboxPage, STATUS_FIELDS,
  type PageRequest,
} from './status.js';
export { outboxMessage, outboxRow } from './outbox-view.js';
export { DEFAULT_RETRY, retryDelay, type RetryPolicy } from './backoff.js';
export { SKIP_REASONS, type SkipReason } from './plan-meeting.js';
export { rewriteMeeting, restoreMeeting } from './rewrite-meeting.js';
export { runMigrationToolOnCalDav, type CalDavToolResult } from './migration-tool-caldav.js';
export { runMigrationTool, auditMigrationTool, MIGRATION_TOOL_CMDLET, type ToolResult, type ToolMessage } from './migration-tool.js';
