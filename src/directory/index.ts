export { resolveTenant, type DirectoryContext } from './context.js';
export type { ChangeOutcome } from './apply-change.js';
export { newTenant, changeTenant, changeTenantSettings, type SettingsChange } from './tenants.js';
export { newBridge, unregisterServiceNumber, type UnregisterOutcome } from './bridges.js';
export { newUser, moveUser, setLicense, setSipAddress, type NewUserInput } from './users.js';
export { setUserTimeZone, checkTimeZone } from './time-zone.js';
export { setUserAcp, enableDialIn, disableDialIn, setDialInUser, type ItemResult, type SetDialInInput, type SendEmailInput } from './dial-in.js';
export { hashLeaderPin, verifyLeaderPin, pinPepper } from './context.js';
export type { NoticeOutcome } from './user-notice.js';
export { dialInUsers, auditLog, auditLogPage, bridgesOf } from './queries.js';
export { toE164 } from './phone-number.js';
export {
  MAILBOX_HOST_TYPES, getMailboxHosts, getUserMailboxView, mailboxConnection, newMailboxHost, removeMailboxHost, setMailboxHost, setUserMailbox,
  type MailboxHostType, type MailboxHostView, type UserMailboxView,
} from './mailbox-hosts.js';
export { testMailboxHost, type MailboxHostTest } from './test-mailbox-host.js';
export { grantTeamsUpgradePolicy, teamsUpgradeUsers, type GrantTeamsUpgradeInput, type GrantTeamsUpgradeOutcome } from './teams-upgrade.js';
