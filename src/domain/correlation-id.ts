// The form of a CorrelationId as admins type it: the whole GUID, or (issue 9 §3) its first 8 or more characters,
// as `-Wait` prints them — like git's abbreviated hashes. Whether a short one names exactly one migration is
// for the lookup to say; this only refuses text that cannot be one ("not-a-guid").

const GUID_SHAPE = 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';

/** The fewest leading characters accepted for a CorrelationId. */
export const MIN_CORRELATION_ID_PREFIX = 8;

/** Whether `text` is a GUID (any case) or the first 8 or more characters of one. */
export function isCorrelationIdForm(text: string): boolean {
  const v = text.trim();
  if (v.length < MIN_CORRELATION_ID_PREFIX || v.length > GUID_SHAPE.length) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (GUID_SHAPE[i] === '-' ? c !== '-' : !/[0-9a-fA-F]/.test(c)) return false;
  }
  return true;
}
