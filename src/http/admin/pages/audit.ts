// Admin center: the audit page (issue 10 §3). Placeholder until its page is built.
import { common } from '../layout.js';
import type { AdminPage } from '../page.js';

export const AUDIT_PAGES: readonly AdminPage[] = [
  {
    path: '/audit',
    nav: 'audit',
    async render(ctx) {
      return { title: common(ctx.lang)('audit'), body: '' };
    },
  },
];
