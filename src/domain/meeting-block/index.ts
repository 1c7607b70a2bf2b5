// The online meeting information block: render it in the organizer's language, find it in a meeting body, read it,
// replace it. Pure functions on decoded strings; iCalendar escaping and folding belong to src/ical.
export { SUPPORTED_LANGUAGES, resolveLanguage } from './locales.js';
export { localeFor } from './locales.js';
export { formatE164 } from './phone.js';
export { escapeHtml } from './html.js';
export {
  DELIMITER,
  renderBlock,
  type BlockInput,
  type ConferenceEntry,
  type DialInInfo,
  type RenderedBlock,
} from './render-block.js';
export { locateTextBlock } from './locate-text.js';
export { locateHtmlBlock } from './locate-html.js';
export type { BlockRange } from './pairing.js';
export { replaceTextBlock, replaceHtmlBlock, insertTextBlock, insertHtmlBlock, replaceRange } from './replace-block.js';
export { carriesProviderValue, locateProviderHtml, locateProviderText, type FormerProvider, type ProviderRun } from './former-provider.js';
export { parseBlock, type ParsedBlock } from './parse-block.js';
export { blockFingerprint } from './fingerprint.js';
export { isTeamsJoinUrl, meetingTypeOf, meetingTypeOfUrl, teamsJoinUrl, type MeetingTypeSignals } from './meeting-type.js';
