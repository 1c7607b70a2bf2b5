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
