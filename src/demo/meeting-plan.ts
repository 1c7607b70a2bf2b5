// The demo's calendar as a plan: which meetings exist, who organizes and attends them, when, and what they say.
// Pure and seeded: the same seed and clock give the same plan, so two loads can be compared.
import { ALL_HANDS_ORGANIZER, MOVE_CANDIDATE, PASTED_BLOCK_ORGANIZER, upnOf, USERS, type DemoUser } from './contoso-directory.js';
import { contentFor, EXTERNAL_DOMAINS, EXTERNAL_PEOPLE, fillText, partnerName, PROJECTS } from './contoso-content.js';
import type { Prng } from './prng.js';
import { byDay, DAY, formatUtc, fromWall, HOUR, isWeekend, MINUTE, wallDay } from './wall-clock.js';

export interface PlannedMeeting {
  readonly kind: 'single' | 'past' | 'series' | 'allHands';
  readonly organizer: DemoUser;
  readonly uid: string;
  readonly meetingId: string;
  readonly subject: string;
  readonly body: string;
  readonly start: number;
  readonly end: number;
  /** Undefined: written in UTC, as some calendar clients do. */
  readonly timeZone: string | undefined;
  readonly attendees: readonly string[];
  readonly recurrence?: string;
  /** Weekly series that get a moved and a cancelled occurrence (by occurrence index, 0 = DTSTART). */
  readonly exceptions?: { readonly moved: number; readonly cancelled: number; readonly wallStart: number; readonly durationMs: number };
}

/** A meeting whose organizer pasted an older meeting's block into the body: no metadata ties it to a meeting. */
export interface PastedMeeting {
  readonly organizer: DemoUser;
  readonly uid: string;
  /** The id of the older meeting the block was copied from. */
  readonly copiedMeetingId: string;
  readonly subject: string;
  readonly intro: string;
  readonly start: number;
  readonly end: number;
  readonly timeZone: string;
  readonly attendees: readonly string[];
}

export interface MeetingPlan {
  readonly meetings: readonly PlannedMeeting[];
  readonly pasted: readonly PastedMeeting[];
}

/** How many of each, tuned so the organizers' mailboxes hold 500 meetings. */
export const PLAN_SIZE = { singles: 457, past: 10, series: 26, seriesWithExceptions: 4, pasted: 2 } as const;

const MEETING_ID_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const FIRST = ['Ana', 'Ben', 'Chen', 'Dana', 'Elif', 'Femi', 'Gita', 'Hugo', 'Ines', 'Jon', 'Kai', 'Lea', 'Mo', 'Nia', 'Omar', 'Pia'];
const LAST = ['Adams', 'Berg', 'Cruz', 'Diaz', 'Evans', 'Fox', 'Gold', 'Hale', 'Ito', 'Jung', 'Khan', 'Lund', 'Moss', 'Nash', 'Ortiz', 'Park'];

/** Organizers: everyone whose mailbox MMS can write to. */
export const ORGANIZERS: readonly DemoUser[] = USERS.filter((u) => u.kind !== 'MailboxOnPrem');
const byAlias = (alias: string): DemoUser => USERS.find((u) => u.alias === alias) as DemoUser;

class Planner {
  constructor(private readonly rng: Prng, private readonly now: number) {}

  uid(): string {
    const h = this.rng.chars('0123456789abcdef', 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}@contoso.com`;
  }

  meetingId(): string {
    return this.rng.chars(MEETING_ID_ALPHABET, 8);
  }

  /** Wall midnight of the business day `days` days from today in the organizer's zone (weekends skipped forward). */
  day(tz: string, days: number): number {
    let d = wallDay(tz, this.now) + days * DAY;
    while (isWeekend(d)) d += days < 0 ? -DAY : DAY;
    return d;
  }

  /** A working-hours slot on that wall day. */
  slot(day: number): { wall: number; duration: number } {
    const wall = day + this.rng.int(8, 16) * HOUR + this.rng.pick([0, 0, 30]) * MINUTE;
    return { wall, duration: this.rng.pick([30, 30, 45, 60, 60, 60, 90, 120]) * MINUTE };
  }

  externals(n: number): string[] {
    const out = new Set<string>();
    while (out.size < n) out.add(`${this.rng.pick(EXTERNAL_PEOPLE)}@${this.rng.pick(EXTERNAL_DOMAINS)}`);
    return [...out];
  }

  /** Colleagues (any user but the organizer, the on-premises mailbox included) and sometimes guests. */
  attendees(organizer: DemoUser, internal: number, externals: number): { addresses: string[]; firstName: string | null; partner: string } {
    const colleagues = this.rng.sample(USERS.filter((u) => u !== organizer), internal);
    const guests = this.externals(externals);
    const partnerDomain = guests[0]?.split('@')[1] ?? this.rng.pick(EXTERNAL_DOMAINS);
    return {
      addresses: [...colleagues.map((u) => upnOf(u.alias)), ...guests],
      firstName: colleagues[0]?.displayName ?? null,
      partner: partnerName(partnerDomain),
    };
  }

  /** Subject and body in the organizer's language; a 1:1 needs a colleague to be with. */
  texts(organizer: DemoUser, templates: readonly string[], who: string | null, partner: string): { subject: string; body: string } {
    const c = contentFor(organizer.language);
    const values = { project: this.rng.pick(PROJECTS), partner, who: who ?? '' };
    const usable = who === null ? templates.filter((x) => !x.includes('{who}')) : templates;
    return { subject: fillText(this.rng.pick(usable.length ? usable : templates), values), body: fillText(this.rng.pick(c.bodies), values) };
  }

  oneOff(kind: 'single' | 'past', organizer: DemoUser, days: number): PlannedMeeting {
    const tz = organizer.timeZone;
    const { wall, duration } = this.slot(this.day(tz, days));
    const guests = this.rng.chance(0.35) ? this.rng.int(1, 3) : 0;
    const people = this.attendees(organizer, this.rng.int(guests ? 0 : 1, 4), guests);
    const { subject, body } = this.texts(organizer, contentFor(organizer.language).subjects, people.firstName, people.partner);
    const start = fromWall(tz, wall);
    return {
      kind, organizer, uid: this.uid(), meetingId: this.meetingId(), subject, body, start, end: start + duration,
      timeZone: this.rng.chance(0.1) ? undefined : tz, attendees: people.addresses,
    };
  }

  /**
   * A recurring series: weekly on the first day's weekday, every weekday, every other week or daily; a third
   * begun in the past with occurrences still ahead; a few with no end at all.
   */
  series(organizer: DemoUser, n: number, withExceptions: boolean): PlannedMeeting {
    const tz = organizer.timeZone;
    const weeksBack = withExceptions ? (n % 2 === 0 ? 2 : 0) : n % 3 === 0 ? this.rng.int(1, 6) : 0;
    const first = this.day(tz, weeksBack ? -7 * weeksBack : this.rng.int(1, 20));
    const { wall } = this.slot(first);
    const standup = !withExceptions && n % 5 === 1;
    const duration = standup ? 15 * MINUTE : this.rng.pick([30, 60]) * MINUTE;
    let recurrence: string;
    if (withExceptions) recurrence = `FREQ=WEEKLY;BYDAY=${byDay(wall)};COUNT=${weeksBack + 10}`;
    else if (standup) recurrence = `FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=${weeksBack * 5 + this.rng.int(20, 40)}`;
    else if (n % 7 === 3) recurrence = `FREQ=WEEKLY;BYDAY=${byDay(wall)}`; // no end date, as Outlook offers
    else if (n % 5 === 2) recurrence = `FREQ=WEEKLY;INTERVAL=2;BYDAY=${byDay(wall)};COUNT=${Math.ceil(weeksBack / 2) + this.rng.int(3, 6)}`;
    else if (n % 5 === 4) recurrence = `FREQ=DAILY;COUNT=${weeksBack * 7 + this.rng.int(5, 10)}`;
    else {
      const until = fromWall(tz, wall + (weeksBack + this.rng.int(4, 12)) * 7 * DAY);
      recurrence = n % 2 ? `FREQ=WEEKLY;BYDAY=${byDay(wall)};UNTIL=${formatUtc(until)}` : `FREQ=WEEKLY;BYDAY=${byDay(wall)};COUNT=${weeksBack + this.rng.int(6, 12)}`;
    }
    const guests = this.rng.chance(0.2) ? this.rng.int(1, 2) : 0;
    const people = this.attendees(organizer, this.rng.int(2, 6), guests);
    const c = contentFor(organizer.language);
    const template = standup ? (c.series[1] ?? c.series[0] as string) : this.rng.pick(c.series);
    const { subject, body } = this.texts(organizer, [template], people.firstName, people.partner);
    const start = fromWall(tz, wall);
    return {
      kind: 'series', organizer, uid: this.uid(), meetingId: this.meetingId(), subject, body, start, end: start + duration, timeZone: tz,
      attendees: people.addresses, recurrence,
      ...(withExceptions ? { exceptions: { moved: weeksBack + 2, cancelled: weeksBack + 4, wallStart: wall, durationMs: duration } } : {}),
    };
  }

  /** The all-hands: every colleague and enough guests to make 300 attendees, beyond the 250 MMS migrates. */
  allHands(): PlannedMeeting {
    const organizer = byAlias(ALL_HANDS_ORGANIZER);
    const tz = organizer.timeZone;
    const wall = this.day(tz, 15) + 9 * HOUR;
    const colleagues = USERS.filter((u) => u !== organizer).map((u) => upnOf(u.alias));
    const guests: string[] = [];
    for (const f of FIRST) for (const l of LAST) guests.push(`${f.toLowerCase()}.${l.toLowerCase()}@${EXTERNAL_DOMAINS[(f.length + l.length) % EXTERNAL_DOMAINS.length]}`);
    const start = fromWall(tz, wall);
    return {
      kind: 'allHands', organizer, uid: this.uid(), meetingId: this.meetingId(),
      subject: 'Contoso all-hands: FY plan 🎉 (with partners)',
      body: 'Welcome everyone — bienvenue — willkommen — ようこそ — 欢迎 — أهلاً وسهلاً — ברוכים הבאים 👋\n\n'
        + 'Agenda: results, FY plan, Q&A. Partners from Fabrikam and Adventure Works join us.\n'
        + 'Over 250 attendees: MMS skips this one when it migrates (the documented limit); see Get-CsMeetingMigrationStatus.',
      start, end: start + 90 * MINUTE, timeZone: tz, attendees: [...colleagues, ...guests.slice(0, 300 - colleagues.length)],
    };
  }

  pasted(organizer: DemoUser, days: number): PastedMeeting {
    const tz = organizer.timeZone;
    const { wall, duration } = this.slot(this.day(tz, days));
    const people = this.attendees(organizer, 3, 1);
    const de = organizer.language === 'de-DE';
    const start = fromWall(tz, wall);
    return {
      organizer, uid: this.uid(), copiedMeetingId: this.meetingId(),
      subject: de ? `Abstimmung mit ${people.partner} (Einwahl aus alter Einladung)` : `Follow-up with ${people.partner} (join info pasted)`,
      intro: de
        ? 'Einwahldaten aus der Einladung vom letzten Monat übernommen (kopiert) 📋:'
        : 'Re-using the join details from last month’s invite (copied and pasted) 📋:',
      start, end: start + duration, timeZone: tz, attendees: people.addresses,
    };
  }
}

/**
 * Plans the demo calendar: one-off meetings over the next ~3 months spread over every organizer, ~10 in the
 * past, ~30 series (four with a moved and a cancelled occurrence, one of them the move candidate's), the
 * 300-attendee all-hands and two meetings with a pasted block.
 */
export function planMeetings(rng: Prng, now: number): MeetingPlan {
  const p = new Planner(rng, now);
  const meetings: PlannedMeeting[] = [p.allHands()];
  const exceptionOrganizers = [MOVE_CANDIDATE, 'camille.dubois', 'taro.yamada', 'adelev'].map(byAlias);
  exceptionOrganizers.slice(0, PLAN_SIZE.seriesWithExceptions).forEach((o, i) => meetings.push(p.series(o, i, true)));
  for (let i = 0; i < PLAN_SIZE.series; i++) {
    const organizer = i === 0 ? byAlias(MOVE_CANDIDATE) : rng.pick(ORGANIZERS);
    meetings.push(p.series(organizer, i, false));
  }
  for (let i = 0; i < PLAN_SIZE.past; i++) meetings.push(p.oneOff('past', rng.pick(ORGANIZERS), -rng.int(1, 45)));
  for (let i = 0; i < PLAN_SIZE.singles; i++) {
    // Everyone organizes a few; the rest go to whoever the generator picks.
    const organizer = i < ORGANIZERS.length * 4 ? (ORGANIZERS[i % ORGANIZERS.length] as DemoUser) : rng.pick(ORGANIZERS);
    meetings.push(p.oneOff('single', organizer, rng.int(1, 90)));
  }
  const pasted = [p.pasted(byAlias(PASTED_BLOCK_ORGANIZER), 9), p.pasted(byAlias('lukas.schmidt'), 12)];
  return { meetings, pasted };
}
