// Admin center: the users page (issue 10 §3). Placeholder until its page is built.
import { common } from '../layout.js';
import type { AdminPage } from '../page.js';

export const USER_PAGES: readonly AdminPage[] = [
  {
    path: '/users',
    nav: 'users',
    async render(ctx) {
      return { title: common(ctx.lang)('users'), body: '' };
    },
  },
];
