// What MMS does to identifiers before anything is stored (issue 11 §1): user ids normalized then hashed, IP addresses
// truncated to their network (/24, /48), and free text (logs, exceptions, conversation state) searched for every
// e-mail address, SIP URI and IP address in it — other people's too, which the reporting user never agreed to send.
import { isIPv4, isIPv6 } from 'node:net';

/** The one form of a user id both the client and MMS hash: trimmed, lower case, without a `sip:` prefix. */
export function normalizeUserId(id: string): string {
  return id.trim().toLowerCase().replace(/^sip:/, '');
}

/** A SIP URI in one form: `sip:` + lower case. */
export function normalizeSipUri(uri: string): string {
  return `sip:${uri.trim().toLowerCase().replace(/^sip:/, '')}`;
}

/** IPv4 to its /24, IPv6 to its /48 (as network/prefix); undefined when `ip` is not an address. */
export function truncateIp(ip: string): string | undefined {
  const v = ip.trim();
  if (isIPv4(v)) return `${v.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(v)) return undefined;
  const groups = expandIPv6(v);
  if (!groups) return undefined;
  const net = groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, '')).join(':');
  return `${net}::/48`;
}

/**
 * The allowance bucket of a client address: an IPv4 address itself, an IPv6 address's /64 (one subscriber's usual
 * share; keyed by the full address, a client with a /64 would have 2^64 buckets).
 */
export function addressBucket(ip: string): string {
  const groups = isIPv6(ip) ? expandIPv6(ip) : undefined;
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : ip;
}

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail turned into two groups). */
function expandIPv6(ip: string): string[] | undefined {
  let v = ip.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  if (v4) {
    const p = v4[1]!.split('.').map(Number);
    v = v.slice(0, -v4[1]!.length) + `${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head, tail] = v.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = v.includes('::') ? 8 - h.length - t.length : 0;
  const all = [...h, ...Array(Math.max(0, fill)).fill('0'), ...t];
  return all.length === 8 ? all.map((g) => g.padStart(4, '0')) : undefined;
}

/**
 * An e-mail address or SIP URI (group 1), an IPv4 address (group 2) or what may be an IPv6 address (group 3: checked
 * with isIPv6, so that times like 12:00:05 stay as they are).
 * - Every repetition is bounded (RFC 5321's 64-character local part, 63-character labels): an unbounded local part
 *   rescanned from each position took ~200 ms for one 16,000-character log line of digits and dots.
 * - An IPv6 address may follow a colon (`remote_ip:2001:db8::1`, the usual key:value log form), and an IPv4-mapped
 *   tail is tried before a hex group, so `::ffff:192.168.1.20` is taken whole, not cut after `192`; a dot ends the
 *   address unless a digit follows (a sentence's full stop).
 */
const IDENTIFIER = /((?:sips?:)?[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,10})|(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?!\.?\d)|(?<![\w.])((?:[0-9a-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{0,4}))(?![\w:]|\.\d)/gi;
/** Cheap test first: most strings (codes, states, numbers as text) hold neither '@' nor ':' nor a dotted number. */
const MAYBE_IDENTIFIER = /[@:]|\d\.\d/;

/** What a piece of text IDENTIFIER matched is: an address (normalized) or an IP address; null for neither. */
export type Identified = { readonly kind: 'address' | 'ip'; readonly value: string } | null;

/**
 * Replaces every e-mail address / SIP URI (`kind` 'address', given without `sip:` and in lower case) and every IP
 * address (`kind` 'ip') in `text` by what `replace` makes of it. `seen` (optional, e.g. one per batch) remembers what
 * each matched text is: the same peer or address is named again and again in one log, and what a match is depends on
 * its text alone (each of IDENTIFIER's groups is its whole alternative, and the alternatives share no text: only an
 * address has '@', only an IPv6 address ':').
 */
export function scrubIdentifiers(text: string, replace: (kind: 'address' | 'ip', value: string, asWritten: string) => string, seen?: Map<string, Identified>): string {
  if (!MAYBE_IDENTIFIER.test(text)) return text;
  return text.replace(IDENTIFIER, (m, address: string | undefined, v4: string | undefined, v6: string | undefined) => {
    let found = seen?.get(m);
    if (found === undefined) {
      found = identify(address, v4 ?? v6!);
      seen?.set(m, found);
    }
    return found ? replace(found.kind, found.value, m) : m;
  });
}

function identify(address: string | undefined, ip: string): Identified {
  if (address !== undefined) return { kind: 'address', value: normalizeUserId(address.replace(/^sips:/i, '')) };
  return isIPv4(ip) || isIPv6(ip) ? { kind: 'ip', value: ip } : null;
}

/** Escapes text for a RegExp. */
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Replaces each `[value, replacement]` found in `text` (case-insensitively): a client that writes the user's id or
 * address into a log line or an exception must not get it stored around the pseudonym.
 */
export function scrub(text: string, replacements: ReadonlyArray<readonly [string, string]>): string {
  let out = text;
  for (const [value, replacement] of replacements) {
    if (value.length < 3) continue;
    out = out.replace(new RegExp(escapeRe(value), 'gi'), replacement);
  }
  return out;
}
