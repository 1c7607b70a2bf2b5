import { XMLParser } from 'fast-xml-parser';

/** XML namespaces WebDAV and CalDAV speak. */
export const NS = {
  DAV: 'DAV:',
  CALDAV: 'urn:ietf:params:xml:ns:caldav',
  CALSERVER: 'http://calendarserver.org/ns/',
} as const;

/** An element with its namespace resolved: servers pick their own prefixes (Radicale `C:`, others `cal:` or none). */
export interface XmlElement {
  readonly ns: string;
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text (concatenated, untrimmed). */
  readonly text: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
});

type Raw = Record<string, unknown>;

/**
 * Parses an XML document and resolves every element's namespace from the `xmlns` declarations in scope, so the
 * rest of the client matches elements by (namespace, local name) and never by prefix.
 */
export function parseXml(text: string): XmlElement {
  let raw: Raw[];
  try {
    raw = parser.parse(text) as Raw[];
  } catch (err) {
    throw new Error(`the server's answer is not XML (${(err as Error).message})`);
  }
  const roots = build(raw, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
  const root = roots[0];
  if (!root) throw new Error('the server\'s answer is an XML document without an element');
  return root;
}

function build(nodes: Raw[], scope: Map<string, string>): XmlElement[] {
  const out: XmlElement[] = [];
  for (const node of nodes) {
    const tag = Object.keys(node).find((k) => k !== ':@' && k !== '#text' && !k.startsWith('?'));
    if (!tag) continue;
    const attrs = (node[':@'] ?? {}) as Record<string, string>;
    const inner = new Map(scope);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'xmlns') inner.set('', v);
      else if (k.startsWith('xmlns:')) inner.set(k.slice(6), v);
    }
    const colon = tag.indexOf(':');
    const prefix = colon < 0 ? '' : tag.slice(0, colon);
    const name = colon < 0 ? tag : tag.slice(colon + 1);
    const kids = (node[tag] ?? []) as Raw[];
    const text = kids.map((k) => (typeof k['#text'] === 'string' || typeof k['#text'] === 'number' ? String(k['#text']) : '')).join('');
    out.push({ ns: inner.get(prefix) ?? '', name, attrs, children: build(kids, inner), text });
  }
  return out;
}

/** Child elements named (ns, name). */
export function childrenOf(el: XmlElement | undefined, ns: string, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.ns === ns && c.name === name) : [];
}

/** The first child element named (ns, name). */
export function childOf(el: XmlElement | undefined, ns: string, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.ns === ns && c.name === name);
}
