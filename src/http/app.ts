// The REST API (issue 10 §1) as a Fastify app: one route per cmdlet (routes.ts), its request schema built from the
// cmdlet's parameters (request-schema.ts) and printed into the OpenAPI 3.1 document at /api/openapi.json, with a
// reference page at /api/docs served from this process (no CDN). A route runs the same cmdlet code the command line
// runs, as the token's principal, inside the token's tenant. `mms serve` listens with it (serve.ts); tests build it
// on a free loopback port.
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import type { Config } from '../config.js';
import type { Cmdlet, CmdletResult } from '../cli/cmdlet.js';
import { toJsonValue } from '../cli/format.js';
import { mmsVersion } from '../cli/help.js';
import { pingDatabase, type Db } from '../store/index.js';
import { workerLiveness } from '../store/worker-repo.js';
import { Authenticator } from './auth.js';
import { bindRequestArgs } from './bind-args.js';
import { API_ERROR_SCHEMA, HttpError, sendError } from './errors.js';
import { BODY_NAME, type FileRouteConfig, fileAnswerSchema, fileBodySchema, fileTransfer, isBinarySchema, registerFileParsers, sendFile } from './file-routes.js';
import { RESULT_MEDIA_TYPE } from './media-type.js';
import { registerMetrics } from './metrics.js';
import { objectSchema, type ArgPart } from './request-schema.js';
import { CMDLET_ROUTES, type CmdletRoute } from './routes.js';
import { runCmdletAs } from './run-as.js';
import { registerWebSignIn } from './web-signin.js';
import { registerAdminCenter } from './admin/admin-center.js';
import { registerTelemetry } from './telemetry-routes.js';

export { RESULT_MEDIA_TYPE };

export interface ApiOptions {
  readonly db: Db;
  readonly config: Config;
  readonly cmdlets: readonly Cmdlet[];
  readonly now?: () => number;
  /** The service's pino logger (one JSON line per request); tests leave it out and log nothing. */
  readonly loggerInstance?: FastifyServerOptions['loggerInstance'];
  /** Client telemetry ingestion limits (tests lower them). */
  readonly telemetry?: { readonly perDevicePerMinute?: number; readonly perIpPerMinute?: number; readonly perKeyPerMinute?: number; readonly bodyLimit?: number };
}

/** Query strings are text: their validator turns "5" into 5 and a single value into a list; bodies are JSON and keep their types. */
function validatorFor(part: string | undefined) {
  return part === 'body' ? bodyAjv : queryAjv;
}
const bodyAjv = new Ajv({ coerceTypes: false, allErrors: false, strict: false });
const queryAjv = new Ajv({ coerceTypes: 'array', allErrors: false, strict: false });

function answer(result: CmdletResult, envelope: boolean): { status: number; body: unknown; total?: number } {
  if (envelope) return { status: 200, body: toJsonValue(result) };
  switch (result.kind) {
    case 'rows':
      return { status: 200, body: toJsonValue(result.rows), total: result.page?.total };
    case 'object':
      return result.failure ? { status: 422, body: { error: 'Invalid', message: result.failure, Result: toJsonValue(result.value) } } : { status: 200, body: toJsonValue(result.value) };
    case 'message':
      return { status: 200, body: { Message: result.text } };
    case 'none':
      return { status: 204, body: undefined };
  }
}

function routeSchema(cmdlet: Cmdlet, route: CmdletRoute) {
  const omit = new Set(route.omit ?? []);
  const inPath = new Set([...route.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!));
  const common = [{ name: 'Tenant', type: 'string' as const, help: 'Tenant name or domain (ServiceAdmin tokens only; other tokens act on their own tenant).' }];
  const fields = [...cmdlet.params.filter((p) => !omit.has(p.name) && !inPath.has(p.name)), ...common.filter((c) => !cmdlet.params.some((p) => p.name === c.name))];
  // A file route's body is the file: its other fields go in the query string.
  const argPart: ArgPart = route.method === 'GET' || route.method === 'DELETE' || route.file ? 'querystring' : 'body';
  return {
    operationId: cmdlet.name,
    summary: cmdlet.synopsis,
    description: `The REST form of \`mms ${cmdlet.name}\`; fields are its parameters. Needs a ${route.role} token or above.`,
    tags: [cmdlet.area ?? 'Other'],
    security: [{ bearer: [] }],
    ...(inPath.size ? { params: objectSchema(cmdlet.params.filter((p) => inPath.has(p.name)).map((p) => ({ ...p, required: true }))) } : {}),
    [argPart]: objectSchema(fields, inPath),
    ...(route.file && fileBodySchema(route.file) ? { body: fileBodySchema(route.file) } : {}),
    response: {
      // The answer is what `--json` prints. It has no schema of its own: cmdlets do not declare their fields (a
      // result's columns are what a table shows, a subset), and a schema would drop every field it does not name.
      // Keyed by media type, so only application/json is matched and it serializes as JSON.stringify does.
      200: (route.file && fileAnswerSchema(route.file)) ?? {
        description: `What \`mms ${cmdlet.name} --json\` prints (PascalCase fields). With \`Accept: ${RESULT_MEDIA_TYPE}\`: the cmdlet's whole result (kind, rows or value, columns, paging), as a remote mms reads it.`,
        content: { 'application/json': { schema: {} } },
      },
      '4xx': API_ERROR_SCHEMA,
      '5xx': API_ERROR_SCHEMA,
    },
  };
}

export async function buildApi(opts: ApiOptions): Promise<FastifyInstance> {
  const now = opts.now ?? Date.now;
  const app = Fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: false }),
    // One log line per request, written below, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    requestIdHeader: false,
    // X-Forwarded-Proto/-For are believed only when MMS_TRUST_PROXY says a TLS proxy is the only way in (sessions.ts).
    // One hop: the address and scheme the nearest proxy saw, never an X-Forwarded-For entry the client wrote itself.
    trustProxy: opts.config.trustProxy ? (_address: string, hop: number) => hop === 0 : false,
  });
  app.addHook('onResponse', async (request, reply) => {
    const line = { method: request.method, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    // Probes (a load balancer's, Kubernetes') come every few seconds: at debug, so they do not drown the rest.
    if (line.path === '/healthz' || line.path === '/readyz') request.log.debug(line, 'request');
    else request.log.info(line, 'request');
  });
  // A file route's body is bytes (file-routes.ts), which a JSON Schema validator cannot judge: its handler does.
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' && isBinarySchema(schema) ? () => true : validatorFor(httpPart).compile(schema)));
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) => sendError(new HttpError(404, 'NotFound', `no route ${request.method} ${request.url.split('?')[0]}; /api/openapi.json lists them`), request, reply));
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    // same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with a form post, and the
    // sign-in forms' Origin check (web-signin.ts) would refuse MMS's own pages. Other sites still get no referrer.
    reply.header('referrer-policy', 'same-origin');
    if (!request.url.startsWith('/api/docs')) {
      // Pages set their own (web-pages.ts: their stylesheet, forms to MMS); everything else may load nothing.
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    }
  });

  await app.register(swagger, {
    // Shared schemas (the telemetry event schemas) are listed under their $id, not def-0, def-1, …
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Meeting Migration Service API', version: mmsVersion(), description: 'Every `mms` cmdlet as a resource; field names are the cmdlet parameters (PascalCase), answers are what `mms … --json` prints.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A token from `mms New-MmsApiToken`.' },
          session: { type: 'apiKey', in: 'cookie', name: 'mms_session', description: 'The admin center\'s session (POST /signin); changes also send X-CSRF-Token.' },
          telemetryKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Client telemetry only: `MmsTelemetry <key>`, the tenant\'s key from `mms New-MmsTelemetryIngestionKey`.' },
        },
      },
    },
  });

  // The interactive reference, from files in node_modules (no CDN). Its own CSP, tightened: no https: sources,
  // no validator.swagger.io badge, no upgrade-insecure-requests (which would break it on plain loopback HTTP).
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: { validatorUrl: null, deepLinking: true },
    staticCSP: true,
    transformStaticCSP: (header: string) => header.replace(/ https:/g, '').replace(' validator.swagger.io', '').replace(" frame-ancestors 'self';", " frame-ancestors 'none';").replace(' upgrade-insecure-requests;', ''),
    transformSpecification: (spec: Readonly<Record<string, unknown>>) => spec,
  });

  const auth = new Authenticator(opts.db, now);
  registerFileParsers(app, Object.values(CMDLET_ROUTES).flatMap((r) => (r.file ? [r.file] : [])));
  for (const cmdlet of opts.cmdlets) {
    const route = CMDLET_ROUTES[cmdlet.name];
    if (!route) continue;
    const file = route.file;
    app.route({
      method: route.method,
      url: route.url,
      schema: routeSchema(cmdlet, route),
      config: { file, cmdlet: cmdlet.name } satisfies FileRouteConfig,
      ...(file?.limit ? { bodyLimit: file.limit } : {}),
      // A change whose fields are all optional may come without a body: it means no fields, as on the command line.
      preValidation: async (request) => {
        if (request.body === undefined && !file && route.method !== 'GET' && route.method !== 'DELETE') request.body = {};
      },
      handler: async (request, reply) => {
        const principal = await auth.principal(request, route.role);
        // The file parameter is bound to what the messages call it; its content comes through `files`, never from a path.
        const fields = file ? [request.params, request.query, { [file.param]: file.direction === 'body' ? BODY_NAME : '-' }] : [request.params, request.query, request.body];
        const parsed = bindRequestArgs(cmdlet, fields as Array<Record<string, unknown> | undefined>);
        const files = file ? fileTransfer(request, file) : undefined;
        const result = await runCmdletAs({ db: opts.db, config: opts.config, now }, principal, cmdlet, parsed.args, parsed.tenant, files);
        const written = files?.written();
        if (file?.direction === 'answer' && written !== undefined) return sendFile(reply, file, written, String(parsed.args.Identity ?? 'file'));
        const { status, body, total } = answer(result, (request.headers.accept ?? '').includes(RESULT_MEDIA_TYPE));
        if (total !== undefined) reply.header('x-total-count', String(total));
        return reply.status(status).send(body);
      },
    });
  }

  await registerWebSignIn(app, { db: opts.db, config: opts.config, now, auth });
  await registerAdminCenter(app, { db: opts.db, config: opts.config, now, auth, cmdlets: opts.cmdlets });
  registerTelemetry(app, { db: opts.db, config: opts.config, now, ...opts.telemetry });
  registerMetrics(app, opts.db, now);
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  // Ready: the database answers and a worker has beaten recently (worker-repo.ts) — the one in this process
  // beats before it starts, so a service whose worker has not started or has stopped is taken out of rotation.
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await pingDatabase(opts.db);
    } catch (err) {
      // The detail (hosts, user names) goes to the log, not to whoever asks.
      _request.log.warn({ err: (err as Error).message }, 'readyz: the database does not answer');
      return reply.status(503).send({ status: 'not ready', message: 'the database does not answer; the service log says why' });
    }
    const worker = await workerLiveness(opts.db.kysely, now()).catch(() => undefined);
    if (!worker?.running) {
      const seen = worker?.lastSeen ? `last seen ${new Date(worker.lastSeen).toISOString()}` : 'none seen yet';
      return reply.status(503).send({ status: 'not ready', message: `no migration worker is running (${seen}); mms serve starts one` });
    }
    return { status: 'ready' };
  });
  return app;
}
