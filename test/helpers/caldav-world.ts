// world.ts's organization with every mailbox on a real Radicale of its own, for tests that run `mms serve` worker
// processes against a calendar server: the organizer and the internal attendees each have an account and a calendar
// there, and their copies of the meetings (the attendees' personalized: response, reminder, category) are PUT to
// it; the users' mailboxes are then moved onto the host with Set-MmsUserMailbox (own credentials, sealed with a
// key the worker processes get as MMS_SECRET_KEY). The test reads and edits objects directly on Radicale, as the
// users' calendar clients would.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import ICAL from 'ical.js';
import type { Db } from '../../src/store/index.js';
import { newMailboxHost, setUserMailbox } from '../../src/directory/index.js';
import { secretBoxFor } from '../../src/secrets/index.js';
import { RadicaleServer } from './radicale.js';
import { buildWorld, type World, type WorldOptions } from './world.js';

export interface DavObjectText {
  readonly ics: string;
  readonly etag: string;
}

export interface DavWorld {
  readonly world: World;
  readonly radicale: RadicaleServer;
  /** MMS_SECRET_KEY for the worker processes (base64): the key the test sealed the users' passwords with. */
  readonly secretKey: string;
  /** Every mailbox on the host (organizers and internal attendees). */
  readonly mailboxes: readonly string[];
  /** A mailbox's object of a meeting, read directly from Radicale; undefined when absent. */
  object(upn: string, uid: string): Promise<DavObjectText | undefined>;
  /** Every copy of every meeting (organizer's and internal attendees'): `${upn}\u0000${uid}` -> object. */
  allObjects(): Promise<Map<string, DavObjectText>>;
  /**
   * What a user's calendar client does when the user adds a line to a meeting's description: read the object,
   * change the DESCRIPTION (prepend `line`), PUT it with If-Match on the ETag read; on 412 read again and re-apply;
   * while the server is away (connection refused), try again until it is back. Returns how many 412s it met.
   */
  userEdit(upn: string, uid: string, line: string): Promise<{ conflicts: number; refused: number }>;
  dispose(): Promise<void>;
}

const localPart = (upn: string) => upn.split('@')[0] as string;

export async function buildDavWorld(db: Db, opts: WorldOptions): Promise<DavWorld> {
  const world = await buildWorld(db, opts);
  const mailboxes = [...new Set([...world.organizers, ...world.meetings.flatMap((m) => m.internal)])];
  const passwords = new Map(mailboxes.map((u) => [u, `${localPart(u)}-${randomUUID()}`]));
  const radicale = await RadicaleServer.start(mailboxes.map((u) => ({ name: localPart(u), password: passwords.get(u) as string })));
  try {
    const calendars = new Map<string, string>();
    for (const u of mailboxes) calendars.set(u, await radicale.makeCalendar(localPart(u), 'calendar', `${u}'s calendar`));
    const href = (upn: string, uid: string) => `${calendars.get(upn)}${encodeURIComponent(uid)}.ics`;
    const auth = (upn: string) => ({ authorization: radicale.authOf(localPart(upn)) });

    for (const m of world.meetings) {
      for (const who of [m.organizer, ...m.internal]) {
        const copy = await world.copy(who, m.uid);
        assert.ok(copy, `dav world: ${who} has no copy of ${m.uid}`);
        const res = await fetch(href(who, m.uid), { method: 'PUT', headers: { ...auth(who), 'content-type': 'text/calendar; charset=utf-8' }, body: copy.ics });
        assert.equal(res.status, 201, `dav world: PUT ${m.uid} for ${who}: ${await res.text()}`);
      }
    }
    const key = randomBytes(32);
    const secrets = secretBoxFor({ secretKey: key, dialect: db.dialect });
    await newMailboxHost(world.ctx, world.tenant.id, { name: 'Radicale', type: 'CalDav', url: `${radicale.url}/` }, secrets);
    for (const u of mailboxes) {
      await setUserMailbox(world.ctx, world.tenant.id, u, { hostName: 'Radicale', calendarUrl: calendars.get(u), userName: localPart(u), password: passwords.get(u) }, secrets);
    }

    const object = async (upn: string, uid: string): Promise<DavObjectText | undefined> => {
      const res = await fetch(href(upn, uid), { headers: auth(upn) });
      if (res.status === 404) {
        await res.arrayBuffer();
        return undefined;
      }
      const ics = await res.text();
      assert.equal(res.status, 200, `dav world: GET ${uid} of ${upn}: ${ics.slice(0, 300)}`);
      return { ics, etag: res.headers.get('etag') ?? '' };
    };

    return {
      world,
      radicale,
      secretKey: key.toString('base64'),
      mailboxes,
      object,
      async allObjects() {
        // One calendar-query REPORT per mailbox (Radicale answers many concurrent GETs slowly).
        const out = new Map<string, DavObjectText>();
        await Promise.all(mailboxes.map(async (u) => {
          for (const o of await calendarObjects(calendars.get(u) as string, auth(u))) out.set(`${u}\u0000${o.uid}`, { ics: o.ics, etag: o.etag });
        }));
        return out;
      },
      async userEdit(upn, uid, line) {
        let conflicts = 0;
        let refused = 0;
        for (;;) {
          try {
            const now = await object(upn, uid);
            assert.ok(now, `user edit: ${upn} has no ${uid}`);
            // A PUT whose connection broke (Radicale killed) may have been written before the answer was lost; a
            // client that re-reads finds its edit there and does not make it twice (it once did: the line twice).
            if (refused > 0 && descriptionHas(now.ics, line)) return { conflicts, refused };
            const res = await fetch(href(upn, uid), {
              method: 'PUT',
              headers: { ...auth(upn), 'content-type': 'text/calendar; charset=utf-8', 'if-match': now.etag },
              body: prependToDescription(now.ics, line),
            });
            const body = await res.text();
            if (res.status === 412) {
              conflicts++;
              assert.ok(conflicts < 50, `user edit of ${uid} by ${upn}: 50 conflicts in a row`);
              continue;
            }
            assert.ok(res.status === 204 || res.status === 201, `user edit of ${uid} by ${upn}: PUT answered ${res.status}: ${body.slice(0, 300)}`);
            return { conflicts, refused };
          } catch (err) {
            // The server is away (killed by the test): a client tries again a little later.
            if (!isRefused(err)) throw err;
            refused++;
            assert.ok(refused < 1200, `user edit of ${uid} by ${upn}: the server stayed away`);
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      },
      async dispose() {
        await radicale.dispose();
      },
    };
  } catch (err) {
    await radicale.dispose();
    throw err;
  }
}

const QUERY = '<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
  + '<D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>';

const xmlText = (s: string) => s.replace(/&#(x?)([0-9a-f]+);/gi, (_, x: string, n: string) => String.fromCodePoint(parseInt(n, x ? 16 : 10)))
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const element = (xml: string, name: string) => new RegExp(`<(?:[A-Za-z0-9]+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[A-Za-z0-9]+:)?${name}>`).exec(xml)?.[1];

/** Every object of a calendar with its ETag, keyed by the UID its href names (`<uid>.ics`). */
async function calendarObjects(calendar: string, headers: Record<string, string>): Promise<Array<DavObjectText & { uid: string }>> {
  const res = await fetch(calendar, { method: 'REPORT', headers: { ...headers, depth: '1', 'content-type': 'application/xml; charset=utf-8' }, body: QUERY });
  const xml = await res.text();
  assert.equal(res.status, 207, `dav world: REPORT ${calendar}: ${xml.slice(0, 300)}`);
  return xml.split(/<(?:[A-Za-z0-9]+:)?response[\s>]/).slice(1).map((r) => {
    const href = xmlText(element(r, 'href') ?? '');
    const ics = xmlText(element(r, 'calendar-data') ?? '');
    assert.ok(href && ics, `dav world: a REPORT response without href or calendar-data: ${r.slice(0, 300)}`);
    return { uid: decodeURIComponent(href.split('/').pop() ?? '').replace(/\.ics$/, ''), ics, etag: xmlText(element(r, 'getetag') ?? '') };
  });
}

function isRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } }).cause;
  return err instanceof TypeError && ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'].includes(cause?.code ?? '');
}

/** Whether the VEVENT's DESCRIPTION (read by ical.js) holds `line`. */
function descriptionHas(ics: string, line: string): boolean {
  const d = ICAL.Component.fromString(ics).getFirstSubcomponent('vevent')?.getFirstPropertyValue('description');
  return typeof d === 'string' && d.split('\n').includes(line);
}

/** The object with `line` added at the top of its VEVENT's DESCRIPTION, edited and written by ical.js (a client's parser, not ours). */
export function prependToDescription(ics: string, line: string): string {
  const comp = ICAL.Component.fromString(ics);
  const ev = comp.getFirstSubcomponent('vevent');
  if (!ev) throw new Error(`no VEVENT in ${ics.slice(0, 200)}`);
  const d = ev.getFirstPropertyValue('description');
  ev.updatePropertyWithValue('description', `${line}\n${typeof d === 'string' ? d : ''}`);
  return comp.toString();
}
