// Admin center: the settings page (issue 10 §3). Placeholder until its page is built.
import { common } from '../layout.js';
import type { AdminPage } from '../page.js';

export const SETTINGS_PAGES: readonly AdminPage[] = [
  {
    path: '/settings',
    nav: 'settings',
    async render(ctx) {
      return { title: common(ctx.lang)('settings'), body: '' };
    },
  },
];
