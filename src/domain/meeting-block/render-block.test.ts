import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MmsError } from '../errors.js';
import { blockFingerprint, parseBlock, renderBlock, resolveLanguage, SUPPORTED_LANGUAGES, type BlockInput } from './index.js';
import { localeFor } from './locales.js';
import { formatE164 } from './phone.js';
import { SAMPLE } from './fixtures.js';


const STRING_KEYS = [
  'joinMeeting',
  'joinByPhone',
  'toll',
  'tollFree',
  'conferenceId',
  'findLocalNumber',
  'sharedNotes',
] as const;

describe('renderBlock', () => {
  test('the English block reads like the Teams one, line by line', () => {
    const r = renderBlock(SAMPLE);
    assert.equal(
      r.text,
      [
        '_'.repeat(80),
        'Join online meeting',
        SAMPLE.joinUrl,
        '',
        'Join by phone',
        '+1 425-555-0100 (Seattle) Toll',
        '+1 800-555-0199 (United States) Toll-free',
        'Conference ID: 1234567',
        'Find a local number: https://dialin.contoso.com/?id=1234567',
        '',
        'Shared meeting notes: https://contoso.sharepoint.com/sites/notes/meeting-4f1c2a',
        '_'.repeat(80),
      ].join('\n'),
    );
  });

  for (const language of SUPPORTED_LANGUAGES) {
    test(`the ${language} block carries every string of its table and no English fallback`, () => {
      const r = renderBlock({ ...SAMPLE, language });
      const loc = localeFor(language);
      for (const key of STRING_KEYS) {
        assert.ok(r.text.includes(loc[key]), `text lacks ${key} "${loc[key]}"`);
        assert.ok(r.html.includes(loc[key]), `html lacks ${key} "${loc[key]}"`);
      }
      assert.match(r.html, new RegExp(`lang="${language}"`));
      assert.equal(r.conferences[0]?.label, loc.joinMeeting);
      if (language !== 'en') {
        const en = localeFor('en');
        for (const key of STRING_KEYS) {
          assert.ok(!r.text.includes(en[key]), `${language} text leaks English "${en[key]}"`);
          assert.ok(!r.html.includes(`>${en[key]}<`), `${language} html leaks English "${en[key]}"`);
        }
        for (const c of r.conferences) assert.ok(!/Toll|Join/.test(c.label), `${language} conference label "${c.label}"`);
      }
    });
  }

  test('a third-party provider shows its name and a participant passcode', () => {
    const r = renderBlock({
      ...SAMPLE,
      language: 'de-AT',
      dialIn: { ...SAMPLE.dialIn!, provider: 'ThirdParty', providerName: 'InterCall', conferenceId: '9549110989' },
    });
    assert.ok(r.text.includes('Audiokonferenzanbieter: InterCall'));
    assert.ok(r.text.includes('Teilnehmer-Passcode: 9549110989'));
    assert.ok(!r.text.includes('Konferenz-ID'));
  });

  test('French puts a no-break space before the colon and CJK a full-width colon', () => {
    assert.ok(renderBlock({ ...SAMPLE, language: 'fr' }).text.includes('ID de conférence\u00a0: 1234567'));
    assert.ok(renderBlock({ ...SAMPLE, language: 'ja-JP' }).text.includes('会議 ID：1234567'));
    assert.ok(renderBlock({ ...SAMPLE, language: 'zh-CN' }).text.includes('会议 ID：1234567'));
  });

  test('a user without audio conferencing gets a block with only the join link', () => {
    const r = renderBlock({ ...SAMPLE, dialIn: null, sharedNotesUrl: null });
    assert.equal(r.text, ['_'.repeat(80), 'Join online meeting', SAMPLE.joinUrl, '_'.repeat(80)].join('\n'));
    assert.ok(!r.html.includes('tel:'));
    assert.deepEqual(r.conferences, [{ uri: SAMPLE.joinUrl, features: ['AUDIO', 'VIDEO'], label: 'Join online meeting' }]);
  });

  test('conferences list the join link and each number as a tel URI that dials the conference id', () => {
    assert.deepEqual(renderBlock(SAMPLE).conferences, [
      { uri: SAMPLE.joinUrl, features: ['AUDIO', 'VIDEO'], label: 'Join online meeting' },
      { uri: 'tel:+14255550100,,1234567%23', features: ['PHONE'], label: 'Seattle (Toll)' },
      { uri: 'tel:+18005550199,,1234567%23', features: ['PHONE'], label: 'United States (Toll-free)' },
    ]);
  });

  test('numbers are written the way their country writes them, keeping every digit', () => {
    const r = renderBlock({
      ...SAMPLE,
      dialIn: { ...SAMPLE.dialIn!, toll: { number: '+33170375500', label: 'Paris' }, tollFree: { number: '+442075550100', label: 'London' } },
    });
    assert.ok(r.text.includes('+33 1 70 37 55 00 (Paris) Toll'), r.text);
    assert.ok(r.text.includes('+44 20 7555 0100 (London) Toll-free'), r.text);
    const more: Array<[string, string]> = [
      ['+14255550100', '+1 425-555-0100'], ['+448005550100', '+44 800 555 0100'], ['+4930123456', '+49 30 123456'],
      ['+81312345678', '+81 3 1234 5678'], ['+8613800138000', '+86 138 0013 8000'],
      ['+80012345678', '+800 1234 5678'], ['+99912345678', '+999 1 234 5678'],
    ];
    for (const [number, shown] of more) assert.equal(formatE164(number), shown, number);
  });

  test('property: every E.164 number is shown with all its digits and read back by parseBlock', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\+[1-9]\d{6,14}$/), (number) => {
        assert.equal(formatE164(number).replace(/\D/g, ''), number.slice(1));
        const text = renderBlock({ ...SAMPLE, dialIn: { ...SAMPLE.dialIn!, toll: { number, label: '' }, tollFree: null } }).text;
        assert.deepEqual(parseBlock(text).numbers, [number]);
      }),
      { numRuns: 300 },
    );
  });

  test('a number without a label is named by its country, in the block\'s language, or shown alone', () => {
    const dialIn = { ...SAMPLE.dialIn!, toll: { number: '+442075550100', label: '' }, tollFree: { number: '+80012345678', label: '  ' } };
    const en = renderBlock({ ...SAMPLE, dialIn });
    assert.ok(en.text.includes('\n+44 20 7555 0100 (United Kingdom) Toll\n+800 1234 5678 Toll-free\n'), en.text);
    assert.ok(en.html.includes('>+44 20 7555 0100</a> (United Kingdom) Toll</div>'), en.html);
    assert.deepEqual(en.conferences.slice(1).map((c) => c.label), ['United Kingdom (Toll)', 'Toll-free']);
    const fr = renderBlock({ ...SAMPLE, language: 'fr-FR', dialIn });
    assert.ok(fr.text.includes('+44 20 7555 0100 (Royaume-Uni) Payant'), fr.text);
    const ja = renderBlock({ ...SAMPLE, language: 'ja', dialIn });
    assert.ok(ja.text.includes('+44 20 7555 0100（イギリス）有料'), ja.text);
    assert.ok(ja.text.includes('+800 1234 5678 通話料無料'), ja.text);
  });

  test('a third-party provider without a name gets no provider line', () => {
    const r = renderBlock({ ...SAMPLE, dialIn: { ...SAMPLE.dialIn!, provider: 'ThirdParty', providerName: null } });
    assert.ok(!r.text.includes('Audio conferencing provider'), r.text);
    assert.ok(r.text.includes('Participant passcode: 1234567'), r.text);
  });

  test('the text block has no surrounding newlines and the html is one marked div', () => {
    const r = renderBlock(SAMPLE);
    assert.ok(!/^\s|\s$/.test(r.text));
    assert.match(r.html, /^<div id="mms-online-meeting" data-mms-meeting-id="mtg-4f1c2a" /);
    assert.match(r.html, /<\/div>$/);
    assert.ok(r.html.includes('<!-- mms-online-meeting:begin -->') && r.html.includes('<!-- mms-online-meeting:end -->'));
    assert.equal(r.fingerprint, blockFingerprint(r.text));
  });

  test('every interpolated value is HTML-escaped', () => {
    const r = renderBlock({
      ...SAMPLE,
      meetingId: 'a"b<c>&\'d',
      joinUrl: "https://meet.contoso.com/x?a=1&b='2'",
      dialIn: { ...SAMPLE.dialIn!, provider: 'ThirdParty', providerName: '<b>ACP & Co</b>', toll: { number: '+14255550100', label: '<script>alert(1)</script>' } },
    });
    assert.ok(r.html.includes('data-mms-meeting-id="a&quot;b&lt;c&gt;&amp;&#39;d"'));
    assert.ok(r.html.includes('href="https://meet.contoso.com/x?a=1&amp;b=&#39;2&#39;"'));
    assert.ok(r.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(r.html.includes('&lt;b&gt;ACP &amp; Co&lt;/b&gt;'));
    assert.ok(!r.html.includes('<script>') && !r.html.includes('<b>'));
  });

  test('the same input always renders the same bytes', () => {
    assert.deepEqual(renderBlock(SAMPLE), renderBlock(structuredClone(SAMPLE)));
  });

  const bad: Array<[string, BlockInput]> = [
    ['a number that is not E.164', { ...SAMPLE, dialIn: { ...SAMPLE.dialIn!, toll: { number: '425-555-0100', label: 'Seattle' } } }],
    ['a conference id with #', { ...SAMPLE, dialIn: { ...SAMPLE.dialIn!, conferenceId: '1234567#' } }],
    ['a label on two lines', { ...SAMPLE, dialIn: { ...SAMPLE.dialIn!, tollFree: { number: '+18005550199', label: 'United\nStates' } } }],
    ['a relative join URL', { ...SAMPLE, joinUrl: '/ashaw/K7X2NQ4T' }],
    ['a join URL with a space', { ...SAMPLE, joinUrl: 'https://meet.contoso.com/a b' }],
    ['a provider name on two lines', { ...SAMPLE, dialIn: { ...SAMPLE.dialIn!, provider: 'ThirdParty', providerName: 'Acme\r\nCalls' } }],
    ['an empty meeting id', { ...SAMPLE, meetingId: ' ' }],
  ];
  for (const [what, input] of bad) {
    test(`rejects ${what} with an Invalid error that names the field`, () => {
      assert.throws(
        () => renderBlock(input),
        (e: unknown) => e instanceof MmsError && e.code === 'Invalid' && /dialIn|joinUrl|meetingId/.test(e.message) && !e.message.includes('\n'),
      );
    });
  }
});

describe('resolveLanguage', () => {
  test('falls back from region to language to English', () => {
    assert.equal(resolveLanguage('fr-CA'), 'fr');
    assert.equal(resolveLanguage('DE_ch'), 'de');
    assert.equal(resolveLanguage('es-419'), 'es');
    assert.equal(resolveLanguage('pt-BR'), 'en');
    assert.equal(resolveLanguage(''), 'en');
  });

  test('maps Chinese to Simplified unless Traditional is asked for', () => {
    assert.equal(resolveLanguage('zh'), 'zh-Hans');
    assert.equal(resolveLanguage('zh-CN'), 'zh-Hans');
    assert.equal(resolveLanguage('zh-Hans-SG'), 'zh-Hans');
    assert.equal(resolveLanguage('zh-TW'), 'en');
    assert.equal(resolveLanguage('zh-Hant-HK'), 'en');
  });

  test('lists at least English, Spanish, French, Italian, German, Japanese and Simplified Chinese', () => {
    for (const l of ['en', 'es', 'fr', 'it', 'de', 'ja', 'zh-Hans']) assert.ok(SUPPORTED_LANGUAGES.includes(l), l);
  });
});
