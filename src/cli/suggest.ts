// "Did you mean …?" for mistyped cmdlet and parameter names.

/** Edit distance (optimal string alignment: insert, delete, substitute, swap two neighbours), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const rows: number[][] = [];
  for (let i = 0; i <= s.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= t.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      const prev = rows[i - 1]!;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[s.length]![t.length]!;
}

/** How far a name may be from the typed text and still be suggested. */
function threshold(typed: string): number {
  return Math.max(2, Math.floor(typed.length / 3));
}

/**
 * The nearest names within `limit`, and only those not much farther than the best one, so a near-exact hit
 * is not followed by unrelated names.
 */
function nearest(scored: readonly { name: string; d: number }[], limit: number, max: number): string[] {
  const ok = scored.filter((x) => x.d <= limit).sort((x, y) => x.d - y.d || x.name.localeCompare(y.name));
  const best = ok[0]?.d ?? 0;
  return ok
    .filter((x) => x.d <= best + 2)
    .slice(0, max)
    .map((x) => x.name);
}

/** Up to `max` of `names` closest to `typed` by edit distance, nearest first; parameter names use this. */
export function closestNames(typed: string, names: readonly string[], max = 3): string[] {
  const limit = threshold(typed);
  const scored = names.map((name) => {
    let d = editDistance(typed, name);
    // A typed name that is the start of a real one ("-Summary" for "-SummaryOnly") is close whatever its length.
    if (typed.length >= 2 && name.toLowerCase().startsWith(typed.toLowerCase())) d = Math.min(d, 1);
    return { name, d };
  });
  return nearest(scored, limit, max);
}

/** Splits 'Get-CsMeetingMigrationStatus' into verb 'Get' and the noun with and without its Cs/Mms/Ex prefix. */
function nounForms(name: string): { verb: string | undefined; nouns: string[] } {
  const dash = name.indexOf('-');
  const verb = dash > 0 ? name.slice(0, dash) : undefined;
  const noun = dash >= 0 ? name.slice(dash + 1) : name;
  // The prefix is only recognised by its casing (CsUser, MmsMeeting), so lower-case typing keeps its noun whole.
  const bare = noun.replace(/^(Cs|Mms)(?=[A-Z])/, '').replace(/^Ex(?=[A-Z])/, '');
  return { verb, nouns: bare === noun ? [noun.toLowerCase()] : [noun.toLowerCase(), bare.toLowerCase()] };
}

/**
 * Up to `max` cmdlet names closest to `typed`, nearest first. A name counts as close by edit distance over the
 * whole name, or over the noun with the Cs/Mms prefix ignored (`Get-MeetingMigrationStatus` finds
 * `Get-CsMeetingMigrationStatus`), or when the typed noun is part of the cmdlet's noun (`Get-MeetingMigration`).
 */
export function closestCmdlets(typed: string, names: readonly string[], max = 3): string[] {
  const limit = threshold(typed);
  const t = nounForms(typed);
  const scored = names.map((name) => {
    const c = nounForms(name);
    const verbCost = t.verb === undefined || c.verb === undefined ? 0 : editDistance(t.verb, c.verb);
    let d = editDistance(typed, name);
    for (const tn of t.nouns) {
      for (const cn of c.nouns) {
        d = Math.min(d, editDistance(tn, cn) + verbCost);
        if (tn.length >= 3 && cn.includes(tn)) d = Math.min(d, 1 + verbCost);
      }
    }
    return { name, d };
  });
  return nearest(scored, limit, max);
}

/** "A", "A or B", "A, B or C". */
export function orList(items: readonly string[]): string {
  return joinLast(items, 'or');
}

/** "A", "A and B", "A, B and C". */
export function andList(items: readonly string[]): string {
  return joinLast(items, 'and');
}

function joinLast(items: readonly string[], word: string): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${word} ${items[items.length - 1]}`;
}
