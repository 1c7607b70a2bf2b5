// Admin center: the bridges page (issue 10 §3). Placeholder until its page is built.
import { common } from '../layout.js';
import type { AdminPage } from '../page.js';

export const BRIDGE_PAGES: readonly AdminPage[] = [
  {
    path: '/bridges',
    nav: 'bridges',
    async render(ctx) {
      return { title: common(ctx.lang)('bridges'), body: '' };
    },
  },
];
