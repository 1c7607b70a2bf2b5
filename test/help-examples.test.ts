// Every `mms help` example works as written on the Contoso demo (issue 9 §5): it is in the `npx mms` form the README
// uses, names its own cmdlet, parses, and the users and bridges it names are the demo's — the ones that exist for
// cmdlets that act on them, new ones for cmdlets that create them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { parseCmdletArgs } from '../src/cli/parse-args.js';
import { BRIDGES, CONTOSO, USERS, upnOf } from '../src/demo/contoso-directory.js';

const DEMO_UPNS = new Set(USERS.map((u) => upnOf(u.alias)));
const DEMO_BRIDGES = new Map<string, readonly string[]>(
  Object.values(BRIDGES).map((b) => [b.name, [...b.tollNumbers, ...b.tollFreeNumbers].map((n) => n.split(' ')[0] as string)]),
);
const USER_PARAMS = ['Identity', 'Organizer', 'Attendees', 'UserPrincipalName'];

/** A command line as a POSIX shell splits it (double quotes group; a redirection ends the arguments). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') {
      quoted = !quoted;
      word ??= '';
    } else if (!quoted && /\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (!quoted && ch === '>' && word === undefined) {
      return words;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

const values = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

describe('mms help examples', () => {
  it('splits command lines the way a shell does', () => {
    assert.deepEqual(shellWords('npx mms New-MmsBridge -Name "Contoso APAC" -TollNumber "+1 (a)","+2 (b)" -X - > out.ics'), [
      'npx', 'mms', 'New-MmsBridge', '-Name', 'Contoso APAC', '-TollNumber', '+1 (a),+2 (b)', '-X', '-',
    ]);
  });

  for (const c of CMDLETS) {
    it(`${c.name}: every example is an npx mms command line that runs on the demo's users and bridges`, () => {
      assert.ok(c.examples.length > 0);
      for (const example of c.examples) {
        const [npx, mms, name, ...rest] = shellWords(example);
        assert.deepEqual([npx, mms, name], ['npx', 'mms', c.name], example);
        const { args } = parseCmdletArgs(c, rest);
        const creates = c.name.startsWith('New-');
        for (const p of USER_PARAMS) {
          for (const upn of values(args[p]).filter((v) => v.includes('@'))) {
            const internal = upn.toLowerCase().endsWith(`@${CONTOSO.domain}`);
            if (creates && p === 'UserPrincipalName') assert.ok(!DEMO_UPNS.has(upn), `${example}: ${upn} already exists in the demo`);
            else if (internal || p !== 'Attendees') assert.ok(DEMO_UPNS.has(upn), `${example}: ${upn} is not a demo user`);
          }
        }
        for (const bridge of values(args.BridgeName)) assert.ok(DEMO_BRIDGES.has(bridge), `${example}: no bridge ${bridge} in the demo`);
        if (c.name === 'New-MmsBridge') assert.ok(!DEMO_BRIDGES.has(String(args.Name)), `${example}: the demo has a bridge ${String(args.Name)} already`);
        if (c.name === 'Unregister-CsOnlineDialInConferencingServiceNumber') {
          assert.ok(DEMO_BRIDGES.get(String(args.BridgeName))?.includes(String(args.Identity)), `${example}: not a number of that demo bridge`);
        }
      }
    });
  }
});
