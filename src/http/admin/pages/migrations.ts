// Admin center: the migrations page (issue 10 §3). Placeholder until its page is built.
import { common } from '../layout.js';
import type { AdminPage } from '../page.js';

export const MIGRATION_PAGES: readonly AdminPage[] = [
  {
    path: '/migrations',
    nav: 'migrations',
    async render(ctx) {
      return { title: common(ctx.lang)('migrations'), body: '' };
    },
  },
];
