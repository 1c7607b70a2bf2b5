// A remote `mms` (issue 10 §1): with MMS_SERVER_URL and MMS_TOKEN set, a cmdlet is sent to the service's REST API
// instead of opening a database, and prints what it would have printed locally — the API hands back the cmdlet's
// whole result (RESULT_MEDIA_TYPE) — with the same exit codes: a 400 is a usage error (2), other errors 1.
import type { Config } from '../config.js';
import { MmsError, type MmsErrorCode } from '../domain/errors.js';
import { RESULT_MEDIA_TYPE } from '../http/media-type.js';
import { CMDLET_ROUTES, NOT_ON_THE_API } from '../http/routes.js';
import type { Cmdlet, CmdletResult } from './cmdlet.js';
import { checkWritableFile, readFileParam, writeFileParam } from './cmdlets/paths.js';
import type { ParsedArgs } from './parse-args.js';

const CODES: readonly MmsErrorCode[] = ['Usage', 'NotFound', 'Conflict', 'Invalid', 'Config', 'Transient'];

/** A typed argument as JSON: datetimes (epoch ms) as ISO 8601, which the API reads back to the same instant. */
function wire(cmdlet: Cmdlet, name: string, value: unknown): unknown {
  const spec = cmdlet.params.find((p) => p.name === name);
  return spec?.type === 'datetime' && typeof value === 'number' ? new Date(value).toISOString() : value;
}

/**
 * Runs `cmdlet` on the service at `server` and returns its result, or throws the service's error as an MmsError.
 * A file parameter (routes.ts `file`) names a file of this machine: it is read here and sent as the body, or the
 * answer is written to it here (`-` : to `stdout`), with the local command's checks and lines.
 */
export async function runRemote(cmdlet: Cmdlet, parsed: ParsedArgs, config: Config, server: NonNullable<Config['server']>, stdout?: NodeJS.WritableStream): Promise<CmdletResult> {
  const route = CMDLET_ROUTES[cmdlet.name];
  if (!route) {
    throw new MmsError('Usage', `${cmdlet.name} cannot run against a remote MMS yet (${NOT_ON_THE_API[cmdlet.name] ?? 'no REST route'}); run it on the server, or unset MMS_SERVER_URL`);
  }
  const file = route.file;
  const omitted = (route.omit ?? []).filter((n) => parsed.args[n] !== undefined && n !== file?.param);
  if (omitted.length) throw new MmsError('Usage', `-${omitted[0]} is not available against a remote MMS (MMS_SERVER_URL); leave it out`);
  const args: Record<string, unknown> = { ...parsed.args };
  // The file is on this machine: checked (and read) before anything is sent, as the local command checks it.
  const localPath = file ? String(args[file.param]) : undefined;
  if (file) delete args[file.param];
  const upload = file?.direction === 'body' ? readFileParam(file.param, localPath!, file.what) : undefined;
  if (file?.direction === 'answer' && localPath !== '-') checkWritableFile(file.param, localPath!);
  const tenant = parsed.tenant ?? config.tenant;
  if (tenant !== undefined) args.Tenant = tenant;
  // Path segments first, then the rest in the query (reads, deletes, and routes whose body is a file) or a JSON body.
  const path = route.url.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
    const v = args[name];
    delete args[name];
    return encodeURIComponent(String(v ?? ''));
  });
  const url = new URL(`${server.url}${path}`);
  const inQuery = route.method === 'GET' || route.method === 'DELETE' || file !== undefined;
  if (inQuery) {
    for (const [k, v] of Object.entries(args)) {
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(wire(cmdlet, k, item)));
    }
  }
  // A copy typed as fetch wants it (a Node Buffer's ArrayBufferLike is not a BodyInit to TypeScript).
  const body = upload ? new Uint8Array(upload) : inQuery ? undefined : JSON.stringify(Object.fromEntries(Object.entries(args).map(([k, v]) => [k, wire(cmdlet, k, v)])));
  let res: Response;
  try {
    res = await fetch(url, {
      method: route.method,
      headers: {
        authorization: `Bearer ${server.token}`,
        accept: file?.direction === 'answer' ? `${file.mediaType}, application/json` : RESULT_MEDIA_TYPE,
        ...(body !== undefined ? { 'content-type': upload ? file!.mediaType : 'application/json' } : {}),
      },
      body,
      signal: AbortSignal.timeout(120_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new MmsError('Transient', `the MMS service at ${server.url} did not answer (${why}); check MMS_SERVER_URL and that mms serve runs there`);
  }
  const raw = Buffer.from(await res.arrayBuffer());
  if (res.ok && file?.direction === 'answer') {
    if (localPath === '-') {
      stdout?.write(raw);
      return { kind: 'none' };
    }
    return { kind: 'message', text: writeFileParam(file.param, localPath!, raw) };
  }
  const text = raw.toString('utf8');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new MmsError('Transient', `the MMS service at ${server.url} answered ${res.status} with something that is not JSON; check that MMS_SERVER_URL points at mms serve`);
  }
  if (!res.ok) {
    const e = json as { error?: string; message?: string } | undefined;
    const code = CODES.find((c) => c === e?.error) ?? (res.status === 400 ? 'Usage' : res.status === 404 ? 'NotFound' : res.status >= 500 ? 'Transient' : 'Conflict');
    const prefix = res.status === 401 || res.status === 403 ? `the service refused MMS_TOKEN: ` : '';
    throw new MmsError(code, `${prefix}${e?.message ?? `HTTP ${res.status}`}`);
  }
  if (res.status === 204 || json === undefined) return { kind: 'none' };
  return json as CmdletResult;
}
