// GET /metrics in the Prometheus text format (prom-client, a registry of our own): the queue, the migration history
// and the outbox as gauges read from the database at scrape time, and HTTP latencies as a histogram. Numbers only —
// no tenant, user or meeting names — so a scrape cannot leak one tenant to another; still, keep /metrics behind the
// proxy's access rules when the API is published.
import type { FastifyInstance } from 'fastify';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../store/index.js';
import { serviceCounts, type ServiceCounts } from '../store/metrics-repo.js';

/** Scrapes closer together than this share one read of the database. */
const FRESH_MS = 5_000;

export function registerMetrics(app: FastifyInstance, db: Db, now: () => number): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mms_' });
  let last: { at: number; counts: Promise<ServiceCounts> } | undefined;
  const counts = (): Promise<ServiceCounts> => {
    const t = now();
    if (!last || t - last.at >= FRESH_MS) {
      last = { at: t, counts: serviceCounts(db, t) };
      last.counts.catch(() => (last = undefined)); // a failed read is not cached
    }
    return last.counts;
  };

  new Gauge({
    name: 'mms_migration_requests', help: 'Migration requests by state (Get-CsMeetingMigrationStatus -SummaryOnly counts users instead).', labelNames: ['state'], registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await counts()).requests) this.set({ state: r.state }, r.count);
    },
  });
  new Gauge({
    name: 'mms_migration_meetings', help: 'Meetings in the migration history (kept MMS_HISTORY_DAYS) by action (Updated, Skipped, Failed, UpToDate, Restored) and reason code.', labelNames: ['action', 'reason'], registers: [registry],
    async collect() {
      this.reset();
      for (const m of (await counts()).meetings) this.set({ action: m.action, reason: m.reason }, m.count);
    },
  });
  new Gauge({
    name: 'mms_outbox_messages', help: 'Update notifications by state; internal="true" are attendee copies updated in place, "false" iMIP mail.', labelNames: ['state', 'internal'], registers: [registry],
    async collect() {
      this.reset();
      for (const o of (await counts()).outbox) this.set({ state: o.state, internal: String(o.internal) }, o.count);
    },
  });
  new Gauge({
    name: 'mms_queue_runnable_requests', help: 'Pending requests whose NotBefore has passed (waiting for a worker).', registers: [registry],
    async collect() {
      this.set((await counts()).runnable);
    },
  });
  new Gauge({
    name: 'mms_queue_oldest_runnable_age_seconds', help: 'How long the oldest runnable request has been waiting (0 when none waits).', registers: [registry],
    async collect() {
      const c = await counts();
      this.set(c.oldestRunnableAt === null ? 0 : Math.max(0, (now() - c.oldestRunnableAt) / 1000));
    },
  });
  const http = new Histogram({
    name: 'mms_http_request_duration_seconds', help: 'HTTP request latency by method, route template and status.', labelNames: ['method', 'route', 'status'], registers: [registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route's template (/api/v1/users/:Identity), not the URL: one series per route, not per user.
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    http.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}
