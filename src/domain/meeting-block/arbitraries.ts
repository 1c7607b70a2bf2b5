/** fast-check generators for the meeting-block tests. */
import fc from 'fast-check';
import { hasDelimiterLine } from './locate-text.js';
import { SUPPORTED_LANGUAGES } from './locales.js';
import type { BlockInput, DialInInfo } from './render-block.js';

const oneLine = (s: string): boolean => s.trim() !== '' && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u.test(s);

/** Labels and names in any script: graphemes (emoji, CJK, RTL, combining marks) on one line. */
export const labelArb = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }).filter(oneLine);

const urlOk = (u: string): boolean => {
  if (/[\s<>"]/.test(u) || !/^https?:\/\//.test(u)) return false;
  try {
    new URL(u);
    return true;
  } catch {
    return false;
  }
};
export const urlArb = fc.webUrl({ withQueryParameters: true, withFragments: true }).filter(urlOk);
export const e164Arb = fc.stringMatching(/^\+[1-9]\d{6,14}$/);
const numberArb = fc.record({ number: e164Arb, label: labelArb });

export const dialInArb: fc.Arbitrary<DialInInfo> = fc
  .record({
    provider: fc.constantFrom('Microsoft' as const, 'ThirdParty' as const),
    providerName: labelArb,
    toll: fc.option(numberArb),
    tollFree: fc.option(numberArb),
    conferenceId: fc.stringMatching(/^\d{1,16}$/),
    localNumbersUrl: fc.option(urlArb),
  })
  .map((d) => ({ ...d, providerName: d.provider === 'ThirdParty' ? d.providerName : null }));

export const languageArb = fc.oneof(
  fc.constantFrom(...SUPPORTED_LANGUAGES),
  fc.constantFrom('fr-CA', 'de-CH', 'es-MX', 'ja-JP', 'zh-CN', 'pt-BR', 'zh-TW', 'en-GB', 'xx'),
);

export const blockInputArb: fc.Arbitrary<BlockInput> = fc.record({
  language: languageArb,
  meetingId: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter(oneLine),
  joinUrl: urlArb,
  dialIn: fc.option(dialInArb, { freq: 4 }),
  sharedNotesUrl: fc.option(urlArb),
});

/**
 * User text around a block: any Unicode plus the characters that matter to a locator (newlines, CR, underscores,
 * dots, `<`, markers, URLs), never containing a line that is itself a delimiter.
 */
export const userTextArb = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          '\n', '\r\n', '\r', '\n\n', '_'.repeat(40), '.'.repeat(30), '🚀', '👩‍👩‍👧', '東京', 'مرحبا', 'עִבְרִית', 'e\u0301',
          '\u202e', '<', '>', '&amp;', '<div>', '</div>', '<!--', 'Microsoft Teams meeting', 'Join online meeting',
          'https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0', 'Conference ID: 123', '+1 425-555-0100',
        ),
      },
    ),
    { maxLength: 16 },
  )
  .map((parts) => parts.join(''))
  .filter((s) => !hasDelimiterLine(s) && !/_{64}|\.{64}/.test(s));
