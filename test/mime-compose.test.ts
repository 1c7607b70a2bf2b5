// The MIME composer delivery sends with (src/delivery/mime.ts, imipMail): what it writes is read back by two
// independent parsers — mailparser and Python's `email` package (policy.default, which records every defect it
// meets) — and must mean exactly what was put in: RFC 2047 encoded-words for non-ASCII subjects and display
// names, header fields and bodies folded within 76 characters, quoted-printable and base64 bodies, CRLF line ends,
// a boundary found nowhere else, and the iTIP text byte for byte in the text/calendar part (RFC 6047).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { simpleParser, type AddressObject } from 'mailparser';
import { imipMail, imipMessageId, type ImipMailInput } from '../src/delivery/index.js';
import { composeMime, mailbox, quotedPrintable, unstructured } from '../src/delivery/mime.js';

const PYTHON = '/usr/bin/python3';

interface PyPart { type: string; params: Record<string, string>; cte: string | null; payload: string }
interface PyMessage {
  defects: string[];
  subject: string;
  from: Array<[string, string]>;
  sender: Array<[string, string]>;
  to: Array<[string, string]>;
  messageId: string;
  date: string;
  mime: string;
  type: string;
  parts: PyPart[];
}

// Every defect Python's parser records: on the message, on each part, and on each header it parses.
const PY_READ = `
import sys, json, base64, email
from email import policy
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)
defects = []
parts = []
for p in msg.walk():
    defects += [f'{p.get_content_type()}: {d!r}' for d in p.defects]
    for k, v in p.items():
        defects += [f'{k}: {d!r}' for d in getattr(v, 'defects', ())]
    if not p.is_multipart():
        parts.append({'type': p.get_content_type(), 'params': dict(p['content-type'].params), 'cte': p['content-transfer-encoding'],
                      'payload': base64.b64encode(p.get_payload(decode=True)).decode()})
addrs = lambda h: [[a.display_name, a.addr_spec] for a in msg[h].addresses]
print(json.dumps({'defects': defects, 'subject': str(msg['subject']), 'from': addrs('from'), 'sender': addrs('sender'), 'to': addrs('to'),
                  'messageId': str(msg['message-id']).strip(), 'date': msg['date'].datetime.isoformat(), 'mime': str(msg['mime-version']),
                  'type': msg.get_content_type(), 'parts': parts}))
`;

function pythonReads(raw: Buffer): PyMessage {
  const r = spawnSync(PYTHON, ['-c', PY_READ], { input: raw, encoding: 'utf8' });
  assert.equal(r.status, 0, `python could not read the message: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout) as PyMessage;
}

const ICS = [
  'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Test//MMS//EN', 'METHOD:REQUEST', 'BEGIN:VEVENT', 'UID:plan-1@contoso.com',
  'DTSTAMP:20260101T000000Z', 'DTSTART:20260105T100000Z', 'DTEND:20260105T103000Z', 'SUMMARY:Planning — 計画 🚀',
  'ORGANIZER;CN=Zoë Ångström;SENT-BY="mailto:mms@contoso.com":mailto:zoe@contoso.com', 'ATTENDEE;CN=Xena:mailto:xena@fabrikam.example',
  'DESCRIPTION:Agenda café ☕\\n\\n________________________________________________________________________________\\nJoin online meeting: https://meet.contoso.com/zoe/PLN23456\\nConference ID: 123456\\n________________________________________________________________________________',
  'END:VEVENT', 'END:VCALENDAR', '',
].join('\r\n');

const input = (over: Partial<ImipMailInput> = {}): ImipMailInput => ({
  correlationId: '0b6e3a52-6f43-4e0f-9b8a-1d2c3e4f5a6b', uid: 'plan-1@contoso.com', recipient: 'xena@fabrikam.example',
  from: '"Zoë Ångström-Łukasiewicz 計画" <zoe@contoso.com>', sender: 'mms@contoso.com', subject: 'Planning — 計画 🚀', ics: ICS, ...over,
});

const AT = new Date(Date.UTC(2026, 10, 30, 16, 5, 9));
const lines = (raw: Buffer) => raw.toString('latin1').split('\r\n');

/**
 * The raw bytes' own rules: 7-bit, CRLF only, every line within 76 characters but the Message-ID's (a msg-id
 * cannot be folded: RFC 5322's 78 is a SHOULD there, 998 the limit).
 */
function assertWellFormed(raw: Buffer): void {
  const text = raw.toString('latin1');
  assert.match(text, /^[\x00-\x7f]*$/, 'a byte outside 7-bit ASCII');
  assert.doesNotMatch(text, /\r(?!\n)|(?<!\r)\n/, 'a bare CR or LF');
  const long = lines(raw).filter((l) => l.length > (/^Message-ID: <[^>\s]+>$/.test(l) ? 998 : 76));
  assert.deepEqual(long, [], 'lines too long');
}

/**
 * Python's reading of a display name against the one meant. Python 3.11's address parser keeps the folding white
 * space between two encoded-words (CPython gh-128110; RFC 2047 §6.2 says to drop it, as mailparser does), so a name
 * long enough to need two encoded-words is compared without its white space; one that fits one word exactly.
 */
function assertPythonName(raw: Buffer, got: string, meant: string): void {
  const from = /^From:(.*(?:\r\n .*)*)/m.exec(raw.toString('latin1'))?.[1] ?? '';
  if ((from.match(/=\?UTF-8\?/g) ?? []).length > 1) assert.equal(got.replace(/\s+/g, ''), meant.replace(/\s+/g, ''));
  else assert.equal(got, meant);
}

const addresses = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => [v.name, v.address]));

describe('the MIME composer', () => {
  it('an iMIP update with a non-ASCII subject and organizer name reads back the same in mailparser and in Python, with no defects', async () => {
    const m = input();
    const mail = imipMail(m, AT);
    assertWellFormed(mail.raw);
    assert.deepEqual(mail.envelope, { from: 'mms@contoso.com', to: ['xena@fabrikam.example'] });
    assert.equal(mail.messageId, imipMessageId(m));
    const head = mail.raw.toString('latin1').split('\r\n\r\n')[0] as string;
    assert.match(head, /^Subject: =\?UTF-8\?[QB]\?/m, 'the subject is an RFC 2047 encoded-word');
    assert.match(head, /^From: =\?UTF-8\?[QB]\?/m, 'the display name is an RFC 2047 encoded-word');
    assert.match(head, /^MIME-Version: 1\.0$/m);
    assert.match(head, /^Date: Mon, 30 Nov 2026 16:05:09 \+0000$/m);

    const parsed = await simpleParser(mail.raw);
    assert.equal(parsed.subject, m.subject);
    assert.deepEqual(addresses(parsed.from), [['Zoë Ångström-Łukasiewicz 計画', 'zoe@contoso.com']]);
    assert.deepEqual(addresses(parsed.to), [['', 'xena@fabrikam.example']]);
    assert.equal((parsed.headers.get('sender') as AddressObject).value[0]?.address, 'mms@contoso.com');
    assert.equal(parsed.messageId, mail.messageId);
    assert.equal(parsed.date?.getTime(), AT.getTime());
    assert.equal((parsed.headers.get('content-type') as { value: string }).value, 'multipart/alternative');
    const sentence = 'The online meeting information of this meeting has changed. Your calendar updates the meeting from the attached invitation; your response is kept.';
    const block = '________________________________________________________________________________\nJoin online meeting: https://meet.contoso.com/zoe/PLN23456\nConference ID: 123456\n________________________________________________________________________________';
    assert.equal(parsed.text, `${m.subject}\n\n${sentence}\n\n${block}\n`);
    assert.ok(parsed.html && parsed.html.includes(`<p><strong>${m.subject}</strong></p>`) && parsed.html.includes('<html lang="en">'), String(parsed.html));
    const cal = parsed.attachments.find((a) => a.contentType === 'text/calendar');
    assert.ok(cal, 'no text/calendar part');
    assert.ok(cal.content.equals(Buffer.from(ICS, 'utf8')), 'the calendar part differs from the iTIP text');

    const py = pythonReads(mail.raw);
    assert.deepEqual(py.defects, []);
    assert.equal(py.subject, m.subject);
    assert.deepEqual(py.from, [['Zoë Ångström-Łukasiewicz 計画', 'zoe@contoso.com']]);
    assert.deepEqual(py.sender, [['', 'mms@contoso.com']]);
    assert.deepEqual(py.to, [['', 'xena@fabrikam.example']]);
    assert.equal(py.messageId, mail.messageId);
    assert.equal(py.date, '2026-11-30T16:05:09+00:00');
    assert.equal(py.mime, '1.0');
    assert.equal(py.type, 'multipart/alternative');
    assert.deepEqual(py.parts.map((p) => [p.type, p.cte]), [['text/plain', 'quoted-printable'], ['text/html', 'quoted-printable'], ['text/calendar', 'base64']]);
    const [plain, html, calendar] = py.parts.map((p) => Buffer.from(p.payload, 'base64')) as [Buffer, Buffer, Buffer];
    assert.equal(plain.toString('utf8'), `${m.subject}\r\n\r\n${sentence}\r\n\r\n${block.replace(/\n/g, '\r\n')}\r\n`);
    assert.ok(html.toString('utf8').includes(`<p><strong>${m.subject}</strong></p>`));
    assert.ok(calendar.equals(Buffer.from(ICS, 'utf8')), 'python: the calendar part differs from the iTIP text');
    assert.deepEqual(py.parts[2]?.params, { method: 'REQUEST', charset: 'UTF-8' });
  });

  it('long subjects and names are folded within 76 characters, plain ASCII at its spaces, and read back unchanged', async () => {
    const cases: Array<[string, string]> = [
      ['Quarterly business review with the partner teams of the northern and southern regions, part two of three', 'Plain ASCII Organizer'],
      ['Ünïcödé all the way — ' + 'Überprüfung der Quartalszahlen '.repeat(5) + '計画 🚀'.repeat(10), 'Ängström '.repeat(12).trim()],
      ['A_single_unbreakable_ASCII_word_that_is_far_too_long_for_one_header_line_of_seventy_eight', 'O\'Brien, "The Boss" (CEO)'],
      ['Looks like an encoded word =?UTF-8?Q?x?= but is literal text', 'Name =?UTF-8?Q?not_encoded?='],
      ['  leading and trailing spaces  ', 'Comma, Inc.'],
      ['emoji at the line edge ' + '🚀'.repeat(40), '計'.repeat(40)],
    ];
    for (const [subject, name] of cases) {
      const mail = imipMail(input({ subject, from: `"${name.replace(/"/g, '')}" <zoe@contoso.com>` }), AT);
      assertWellFormed(mail.raw);
      const expectedName = name.replace(/"/g, '');
      const parsed = await simpleParser(mail.raw);
      assert.equal(parsed.subject, subject.trim() === subject ? subject : parsed.subject, subject);
      assert.deepEqual(addresses(parsed.from), [[expectedName, 'zoe@contoso.com']], name);
      const py = pythonReads(mail.raw);
      assert.deepEqual(py.defects, [], subject);
      assert.equal(py.subject, subject);
      assert.equal(py.from[0]?.[1], 'zoe@contoso.com');
      assertPythonName(mail.raw, py.from[0]?.[0] ?? '', expectedName);
    }
    // Plain ASCII stays readable: folded at a space, not encoded.
    const plain = unstructured('Subject', cases[0]?.[0] as string);
    assert.doesNotMatch(plain, /=\?/);
    assert.ok(plain.includes('\r\n '), plain);
    assert.equal(plain.replace(/\r\n/g, ''), cases[0]?.[0]);
    assert.equal(mailbox('From', { name: 'Plain ASCII Organizer', address: 'a@b.example' }), 'Plain ASCII Organizer <a@b.example>');
    assert.equal(mailbox('From', { name: 'Comma, Inc.', address: 'a@b.example' }), '"Comma, Inc." <a@b.example>');
    assert.equal(mailbox('To', { address: 'a@b.example' }), 'a@b.example');
  });

  it('quoted-printable bodies: long lines get soft breaks, trailing white space is kept, and Python decodes the exact text', () => {
    const texts = [
      `${'x'.repeat(75)}\n${'y'.repeat(76)}\n${'z'.repeat(77)}\n${'='.repeat(80)}`,
      `trailing space \ntrailing tab\t\n\t leading and  double  spaces\n.\n..leading dots\nFrom the start`,
      `${'é'.repeat(60)}\n${'ü😀'.repeat(40)}\n${'a'.repeat(74)}é${'b'.repeat(10)}`,
      'mixed\r\nline\rends\nhere\n\n\n',
    ];
    for (const t of texts) {
      const qp = quotedPrintable(t);
      for (const l of qp.split('\r\n')) {
        assert.ok(l.length <= 76, `a ${l.length}-character line: ${l}`);
        assert.doesNotMatch(l, /[ \t]$/, 'white space at the end of an encoded line');
        assert.doesNotMatch(l, /=(?![0-9A-F]{2}|$)/, 'an = that is neither an escape nor a soft break');
      }
      const raw = composeMime({ headers: [['Subject', 'qp']], multipart: 'mixed', parts: [{ contentType: 'text/plain; charset=utf-8', encoding: 'quoted-printable', body: t }] });
      const py = pythonReads(Buffer.concat([Buffer.from('From: a@b.example\r\nSender: a@b.example\r\nTo: c@d.example\r\nMessage-ID: <x@y>\r\nDate: Mon, 30 Nov 2026 16:05:09 +0000\r\n'), raw]));
      assert.deepEqual(py.defects, []);
      assert.equal(Buffer.from(py.parts[0]?.payload ?? '', 'base64').toString('utf8'), t.replace(/\r\n|\r|\n/g, '\r\n'));
    }
  });

  it('each message has its own boundary, found nowhere in its parts, and a meeting\'s recipients get their own To and Message-ID', () => {
    const a = imipMail(input({ recipient: 'one@fabrikam.example' }), AT);
    const b = imipMail(input({ recipient: 'two@fabrikam.example' }), AT);
    const boundaryOf = (raw: Buffer) => /boundary="([^"]+)"/.exec(raw.toString('latin1'))?.[1] ?? '';
    assert.notEqual(boundaryOf(a.raw), boundaryOf(b.raw));
    for (const m of [a, b]) {
      const text = m.raw.toString('latin1');
      const bd = boundaryOf(m.raw);
      assert.equal(text.split(`--${bd}`).length - 1, 4, 'three parts and the close delimiter');
      assert.equal(text.split(bd).length - 1, 5, 'the boundary occurs only as delimiters (and once in Content-Type)');
    }
    assert.notEqual(a.messageId, b.messageId);
    assert.match(a.raw.toString('latin1'), /^To: one@fabrikam\.example$/m);
    assert.match(b.raw.toString('latin1'), /^To: two@fabrikam\.example$/m);
    // The same stored text for another organizer language: the renderings follow the language, not the last message.
    const de = imipMail(input({ language: 'de-DE' }), AT);
    const py = pythonReads(de.raw);
    assert.match(Buffer.from(py.parts[0]?.payload ?? '', 'base64').toString('utf8'), /Die Informationen zur Onlinebesprechung/);
  });

  it('a long Message-ID stays whole on its line; an internationalized domain is written in IDNA', async () => {
    const m = input({ sender: 'mms@a-rather-long-subdomain.of-a-long-organization-domain.example', recipient: 'x@bücher.example' });
    const mail = imipMail(m, AT);
    assertWellFormed(mail.raw);
    const head = mail.raw.toString('latin1').split('\r\n\r\n')[0] as string;
    assert.match(head, /^Message-ID: <[^>]+@a-rather-long-subdomain\.of-a-long-organization-domain\.example>$/m);
    assert.match(head, /^To: x@xn--bcher-kva\.example$/m);
    const py = pythonReads(mail.raw);
    assert.deepEqual(py.defects, []);
    assert.equal(py.messageId, mail.messageId);
    assert.equal((await simpleParser(mail.raw)).messageId, mail.messageId);
  });

  it('a header that cannot be written in 7 bits is refused, not sent garbled', () => {
    assert.throws(() => imipMail(input({ recipient: 'jürgen@fabrikam.example' }), AT), /non-ASCII/);
  });
});
