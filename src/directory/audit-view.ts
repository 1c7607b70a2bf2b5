// How Get-MmsAuditLog shows a row's changes (issue 9 §3): in the cmdlets' own words (BridgeName, ServiceNumber,
// ConferenceId), bridges by name rather than GUID, and in one line that fits a table cell:
// `BridgeName: Contoso US → Contoso EU; ConferenceId: 123 → 456`. The stored JSON is left as it was written.

/** The audit row's field names (User's and TenantSettings' properties) as the cmdlet parameters name them. */
const FIELD_NAMES: Readonly<Record<string, string>> = {
  upn: 'UserPrincipalName',
  acProvider: 'Provider',
  acp: 'AcpProvider',
  acEnabled: 'AudioConferencingEnabled',
  bridgeId: 'BridgeName',
  tollNumber: 'ServiceNumber',
  tollFreeNumber: 'TollFreeServiceNumber',
};

/** What a null means for a field: the user follows a default rather than having no value. */
const NULL_MEANS: Readonly<Record<string, string>> = {
  bridgeId: '(tenant default bridge)',
  tollNumber: '(bridge default)',
  tollFreeNumber: '(bridge default)',
  timeZone: '(tenant time zone)',
};

export interface ShownChanges {
  /** One line: `Field: before → after; …`. */
  readonly text: string;
  /** The same, structured for --json: field → { Old, New } (not Before/After: a name ending in Before reads as a date), bridges by name. */
  readonly set: Record<string, { Old: unknown; New: unknown }>;
}

function value(field: string, v: unknown, bridgeNames: ReadonlyMap<string, string>): unknown {
  if (v === null || v === undefined) return NULL_MEANS[field] ?? null;
  if (field === 'bridgeId' && typeof v === 'string') return bridgeNames.get(v) ?? v;
  return v;
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '(none)';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.length ? v.join(', ') : '(none)';
  return JSON.stringify(v);
}

/** An audit row's stored changes as Get-MmsAuditLog shows them; `bridgeNames` maps the tenant's bridge ids to names. */
export function showChanges(changes: Readonly<Record<string, readonly [unknown, unknown]>>, bridgeNames: ReadonlyMap<string, string>): ShownChanges {
  const set: ShownChanges['set'] = {};
  const parts: string[] = [];
  for (const [field, [rawBefore, rawAfter]] of Object.entries(changes)) {
    if (JSON.stringify(rawBefore) === JSON.stringify(rawAfter)) continue;
    const name = FIELD_NAMES[field] ?? field.charAt(0).toUpperCase() + field.slice(1);
    // OnlineMeetingInformation stays whole on both sides: the old dial-in values must stay readable after a change.
    const [before, after] = [value(field, rawBefore, bridgeNames), value(field, rawAfter, bridgeNames)];
    set[name] = { Old: before ?? null, New: after ?? null };
    parts.push(`${name}: ${text(before)} → ${text(after)}`);
  }
  return { text: parts.join('; '), set };
}
