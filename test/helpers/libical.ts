// An independent judge of the iTIP messages MMS writes: libical (through GObject introspection, Debian
// `gir1.2-ical-3.0` + `python3-gi`) parses each message and applies its iTIP restrictions (RFC 5546 tables), and
// python-icalendar reads it again. Neither shares a line of code with our parser, so a message both accept is
// one real clients accept. One python process judges a whole batch: starting python per message is slow.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { REQUIRE_ALL } from './databases.js';

const PYTHON = '/usr/bin/python3';

// Reads a JSON list of texts on stdin, prints a JSON list of verdicts. libical's check_restrictions adds
// X-LIC-ERROR properties where the message breaks its METHOD's rules (it returns 0 either way), and the parser
// adds them for lines it cannot read; every one found anywhere in the tree is an error.
const SCRIPT = String.raw`
import json, sys
import gi
gi.require_version('ICalGLib', '3.0')
from gi.repository import ICalGLib
import icalendar

def lic_errors(comp, out):
    p = comp.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    while p is not None:
        out.append('%s: %s' % (ICalGLib.Component.kind_to_string(comp.isa()), p.get_xlicerror()))
        p = comp.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    c = comp.get_first_component(ICalGLib.ComponentKind.ANY_COMPONENT)
    while c is not None:
        lic_errors(c, out)
        c = comp.get_next_component(ICalGLib.ComponentKind.ANY_COMPONENT)

def judge(text):
    errors = []
    try:
        comp = ICalGLib.Component.new_from_string(text)
    except TypeError:
        comp = None
    if comp is None:
        return {'errors': ['libical: the text does not parse'], 'method': None, 'events': []}
    comp.check_restrictions()
    found = []
    lic_errors(comp, found)
    errors += ['libical: ' + e for e in dict.fromkeys(found)]
    method = None
    events = []
    try:
        cal = icalendar.Calendar.from_ical(text)
        method = str(cal.get('METHOD')) if cal.get('METHOD') is not None else None
        for e in cal.walk('VEVENT'):
            rid = e.get('RECURRENCE-ID')
            att = e.get('ATTENDEE')
            att = [] if att is None else (att if isinstance(att, list) else [att])
            ex = e.get('EXDATE')
            ex = [] if ex is None else (ex if isinstance(ex, list) else [ex])
            events.append({
                'recurrenceId': None if rid is None else rid.to_ical().decode(),
                'status': None if e.get('STATUS') is None else str(e.get('STATUS')),
                'attendees': [str(a).lower().replace('mailto:', '', 1) for a in att],
                'alarms': len(e.walk('VALARM')),
                'exdates': [d.to_ical().decode() for x in ex for d in x.dts],
                'dtstamp': None if e.get('DTSTAMP') is None else e.get('DTSTAMP').to_ical().decode(),
            })
    except Exception as err:
        errors.append('python-icalendar: %s' % (err,))
    return {'errors': errors, 'method': method, 'events': events}

texts = json.load(sys.stdin)
json.dump([judge(t) for t in texts], sys.stdout)
`;

/** What the independent validators say about one message. */
export interface ItipVerdict {
  /** libical's X-LIC-ERRORs (iTIP restrictions and parse errors) and python-icalendar's exceptions. */
  readonly errors: string[];
  /** METHOD as python-icalendar reads it. */
  readonly method: string | null;
  /** Each VEVENT as python-icalendar reads it (addresses lower case without mailto:). */
  readonly events: Array<{ recurrenceId: string | null; status: string | null; attendees: string[]; alarms: number; exdates: string[]; dtstamp: string | null }>;
}

function probe(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', "import gi; gi.require_version('ICalGLib', '3.0'); from gi.repository import ICalGLib; import icalendar"], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${r.error.message}); install python3 with python3-gi, gir1.2-ical-3.0 and python3-icalendar`;
  if (r.status !== 0) return `${PYTHON} lacks libical or python-icalendar (${(r.stderr.trim().split('\n').pop() ?? '').slice(0, 120)}); install python3-gi, gir1.2-ical-3.0 and python3-icalendar`;
  return undefined;
}

/** Why the independent iTIP validators cannot run here, or undefined when they can. */
export const LIBICAL_PROBLEM = probe();
if (LIBICAL_PROBLEM && REQUIRE_ALL) throw new Error(`MMS_REQUIRE_ALL=1 but ${LIBICAL_PROBLEM}`);
let told = false;

/** Runs libical and python-icalendar over a batch of messages in one python process. */
export function judgeItip(messages: readonly string[]): ItipVerdict[] {
  assert.equal(LIBICAL_PROBLEM, undefined, LIBICAL_PROBLEM);
  if (!messages.length) return [];
  const r = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(messages), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, `the iTIP validator failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ItipVerdict[];
}

/**
 * Asserts that every message is a METHOD:REQUEST that libical and python-icalendar accept without a single
 * error, and that none carries an alarm (alarms are personal; RFC 5546 §3.2.2 leaves them out). Returns the
 * verdicts for further checks, or null (after one line saying why) when the validators are not installed.
 */
export function assertValidItip(messages: readonly string[], what = 'iTIP message'): ItipVerdict[] | null {
  if (LIBICAL_PROBLEM) {
    if (!told) console.log(`# iTIP validation skipped: ${LIBICAL_PROBLEM}`);
    told = true;
    return null;
  }
  assert.ok(messages.length > 0, `${what}: no messages to validate`);
  const verdicts = judgeItip(messages);
  verdicts.forEach((v, i) => {
    const head = `${what} ${i + 1} of ${messages.length}`;
    assert.deepEqual(v.errors, [], `${head} is rejected:\n${v.errors.join('\n')}\n${messages[i]}`);
    assert.equal(v.method, 'REQUEST', `${head}: METHOD`);
    assert.ok(v.events.length > 0, `${head}: no VEVENT`);
    for (const e of v.events) assert.equal(e.alarms, 0, `${head}: ${e.recurrenceId ?? 'the master'} carries an alarm`);
  });
  return verdicts;
}
