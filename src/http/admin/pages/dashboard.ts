// Admin center: the dashboard page (issue 10 §3). Placeholder until its page is built.
import { common } from '../layout.js';
import type { AdminPage } from '../page.js';

export const DASHBOARD_PAGES: readonly AdminPage[] = [
  {
    path: '/',
    nav: 'dashboard',
    async render(ctx) {
      return { title: common(ctx.lang)('dashboard'), body: '' };
    },
  },
];
