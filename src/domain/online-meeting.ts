/**
 * The metadata that ties a calendar object to its online meeting, as the add-in writes it. MMS only migrates
 * meetings that carry it: a block copied and pasted into another meeting has no metadata and is left alone,
 * as the reference documents.
 */
export const MEETING_ID_PROPERTY = 'X-MMS-ONLINE-MEETING-ID';
/** Fingerprint of the block as MMS last wrote it; a different block text means the user edited it. */
export const FINGERPRINT_PROPERTY = 'X-MMS-BLOCK-FINGERPRINT';
/** Exchange's own markers of a Skype / Teams meeting, recognised in imported calendars. */
export const EXCHANGE_MEETING_PROPERTIES = ['X-MICROSOFT-SKYPETEAMSMEETINGURL', 'X-MICROSOFT-ONLINEMEETINGCONFLINK'] as const;

/** The online meeting id an object's X- properties name, or null when it is not an add-in meeting. */
export function onlineMeetingIdOf(xProps: Readonly<Record<string, string>>): string | null {
  const ours = xProps[MEETING_ID_PROPERTY]?.trim();
  if (ours) return ours;
  for (const name of EXCHANGE_MEETING_PROPERTIES) {
    const v = xProps[name]?.trim();
    if (v) return v;
  }
  return null;
}

// The focus id of a Skype conference URI: `conf:sip:ashaw@contoso.com;gruu;opaque=app:conf:focus:id:K7Q2X9ZP`,
// sometimes followed by `?conversation-id=…`. Teams writes `…focus:id:teams:2:0!19:meeting_…-thread.v2!…` there.
const FOCUS_ID = /;opaque=app:conf:focus:id:([^?;&\s]+)/i;
// The thread of a Teams meeting, as a join link carries it (`19:meeting_<id>@thread.v2`, percent-decoded) and as the
// conference URI does (`19:meeting_<id>-thread.v2`): the same id either way, so both exports get the same new link.
const TEAMS_MEETING_THREAD = /19:meeting_([^@!/\s]+?)[-@]thread\.(?:v2|skype)/i;
// What may stand in a URL path segment without escaping (RFC 3986 §2.3 unreserved characters).
const UNRESERVED = /^[A-Za-z0-9._~-]+$/;

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * A path segment made of the id: unreserved characters stay, anything else is percent-encoded (including the
 * `!'()*` that encodeURIComponent leaves). Null for an empty id and for `.` / `..` (even escaped), which a URL
 * resolves away.
 */
function asSegment(id: string): string | null {
  if (/^\.*$/.test(id)) return null;
  if (UNRESERVED.test(id)) return id;
  return encodeURIComponent(id).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The online meeting id a migrated block's join link ends with (`https://<meeting url>/<user>/<id>`), from what
 * `onlineMeetingIdOf` stored: our own id as it is; for Exchange-imported meetings the id inside Exchange's marker —
 * the last segment of a Skype join link (`https://meet.contoso.com/ashaw/K7Q2X9ZP` -> `K7Q2X9ZP`), the focus id of a
 * Skype conference URI (`conf:sip:…;opaque=app:conf:focus:id:K7Q2X9ZP` -> `K7Q2X9ZP`), the meeting of a Teams thread
 * (`…/meetup-join/19%3ameeting_<id>%40thread.v2/0?…` or `…focus:id:teams:2:0!19:meeting_<id>-thread.v2!…` -> `<id>`).
 * The result is always one non-empty URL path segment, so any marker gives a link that renders.
 */
export function meetingIdOf(onlineMeetingId: string): string {
  const value = onlineMeetingId.trim();
  const teams = TEAMS_MEETING_THREAD.exec(safeDecode(value))?.[1];
  const focus = FOCUS_ID.exec(value)?.[1];
  const id = (teams && asSegment(teams)) || (focus && asSegment(safeDecode(focus))) || (/^https?:\/\//i.test(value) && fromUrl(value));
  return id || asSegment(value) || 'meeting';
}

function fromUrl(url: string): string | null {
  const path = url.replace(/^https?:\/\/[^/?#]*/i, '').split(/[?#]/)[0] ?? '';
  // A Teams channel meeting (`…/meetup-join/19%3a<thread>%40thread.tacv2/<message id>`) is its thread and message.
  const channel = /\/meetup-join\/([^/]+)\/([^/]+)/i.exec(path);
  if (channel?.[1] && channel[2]) {
    const thread = safeDecode(channel[1]).replace(/^19:/, '').replace(/@thread\.[a-z0-9]+$/i, '');
    return asSegment(`${thread}-${safeDecode(channel[2])}`);
  }
  const segments = path.split('/').map(safeDecode).filter((x) => !/^\.*$/.test(x));
  const last = segments.pop();
  return last === undefined ? null : asSegment(last);
}
