// The one place that configures ical.js. Every file of src/ical imports ICAL from here, so the settings below
// are in force before any parse, whichever entry point runs first.
import ICAL from 'ical.js';

// If anything ever serializes through ical.js, fold at 74 so that with the leading space a continuation line
// stays within the 75 octets of RFC 5545 §3.1 (ical.js counts characters, not octets). Our own edits never go
// through ical.js's serializer: they fold with foldLine, which counts octets.
ICAL.foldLength = 74;

// RFC 7986 §5.11: FEATURE is a multi-valued parameter (FEATURE=AUDIO,VIDEO). ical.js does not know it, and
// would otherwise read the value as one opaque string.
const icalSet = ICAL.design.icalendar as unknown as {
  param: Record<string, { multiValue?: string } | undefined>;
  property: Record<string, { defaultType: string } | undefined>;
};
icalSet.param['feature'] ??= { multiValue: ',' };
// RFC 7986 §5.11: CONFERENCE is URI-valued; without this ical.js types it as "unknown".
icalSet.property['conference'] ??= { defaultType: 'uri' };

export { ICAL };
