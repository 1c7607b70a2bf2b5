// What an admin center page is: a path, the least role that may open it, and a render function that reads through
// the same cmdlets the REST API runs (PageContext.run) — a page never queries the database itself, and every change
// it offers is a form the browser sends to the REST API (assets/admin.js), so the API stays the one source of truth.
import type { CmdletResult } from '../../cli/cmdlet.js';
import type { Caller } from '../auth.js';
import type { Role } from '../routes.js';
import type { Lang } from './i18n.js';

/** The navigation's entries, in order. */
export const NAV = ['dashboard', 'users', 'migrations', 'bridges', 'settings', 'telemetry', 'audit'] as const;
export type NavKey = (typeof NAV)[number];

export interface PageContext {
  readonly lang: Lang;
  readonly caller: Caller;
  /** The session's CSRF token; the layout puts it in a meta tag for admin.js. */
  readonly csrfToken: string;
  /** The page URL's query string (a repeated parameter is a list). */
  readonly query: Readonly<Record<string, string | string[]>>;
  /** Epoch ms of the request (the service clock). */
  readonly now: number;
  /** The tenant a ServiceAdmin picked (undefined: the only one, or the caller's own). */
  readonly tenant: string | undefined;
  /**
   * Runs a cmdlet as the signed-in admin with REST-shaped fields (the same binding, role and tenant rules as its
   * route); errors are thrown as they would be answered (MmsError, HttpError).
   */
  run(cmdlet: string, fields?: Readonly<Record<string, unknown>>): Promise<CmdletResult>;
  /** `run` for a listing: its rows as the API's JSON (dates ISO text). */
  rows(cmdlet: string, fields?: Readonly<Record<string, unknown>>): Promise<Record<string, unknown>[]>;
  /** `run` for one object: the object as the API's JSON. */
  value(cmdlet: string, fields?: Readonly<Record<string, unknown>>): Promise<Record<string, unknown>>;
  /** Whether the admin's role reaches `role` (hide what they may not do). */
  may(role: Role): boolean;
  /** A time for people, in the page language (UTC, said so). */
  formatTime(value: unknown): string;
}

export interface RenderedPage {
  /** The page's heading and <title>, plain text. */
  readonly title: string;
  /** The HTML inside <main>, after the heading (every value escaped by the page). */
  readonly body: string;
  /** Extra browser modules of this page, by file name under assets/ ('dashboard.js'). */
  readonly scripts?: readonly string[];
  /** Extra stylesheets: asset file names, or '/static/vendor/…' paths. */
  readonly styles?: readonly string[];
}

export interface AdminPage {
  /** '/', '/users', '/users/:Identity' (a Fastify path). */
  readonly path: string;
  /** The navigation entry shown as current. */
  readonly nav: NavKey;
  /** The least role that may open the page (default ReadOnly). */
  readonly role?: Role;
  render(ctx: PageContext, params: Readonly<Record<string, string>>): Promise<RenderedPage>;
}
