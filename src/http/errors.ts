// Every error the API answers is JSON `{ "error": <code>, "message": <one line that says what to do> }` — the same
// line the command line prints — and never a stack trace; unexpected failures are logged with the request id and
// answered with that id only.
import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { MmsError, RetryLater, type MmsErrorCode } from '../domain/errors.js';
import { isBusyError } from '../store/index.js';
import { fileHint, type FileRouteConfig } from './file-routes.js';

/** HTTP status per MmsError code (see domain/errors.ts). */
export const STATUS: Readonly<Record<MmsErrorCode, number>> = { Usage: 400, Config: 400, NotFound: 404, Conflict: 409, Invalid: 422, Transient: 503 };

export interface ApiErrorBody {
  readonly error: string;
  readonly message: string;
}

/**
 * The schema of every 4xx/5xx a cmdlet route answers: printed into the OpenAPI document and used to serialize the
 * body (fields outside it would be dropped, so `Result` — the one extra field, 422 only — is in it).
 */
export const API_ERROR_SCHEMA = Type.Object({
  error: Type.String({ description: `A code to branch on: ${[...Object.keys(STATUS), 'Unauthorized', 'Forbidden', 'CsrfTokenMissing', 'Internal'].join(', ')}.` }),
  message: Type.String({ description: 'One line that says what is wrong and what to do: the line the command line prints after `mms: `.' }),
  Result: Type.Optional(Type.Unknown({ description: 'Only with a 422 from a cmdlet that reports its own failure (an import that brought nothing in): what `--json` prints.' })),
}, { description: 'An error: JSON, one line, never a stack trace.' });

/** A 4xx/5xx the API itself decides (authentication, roles), in the same body as every other error. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

function validationMessage(err: FastifyError): string {
  const v = err.validation?.[0];
  if (!v) return err.message;
  const where = err.validationContext ?? 'request';
  const field = v.instancePath ? v.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
  if (v.keyword === 'additionalProperties') {
    const extra = (v.params as { additionalProperty?: string }).additionalProperty;
    return `the ${where} has no field ${extra}: field names are the cmdlet's parameter names (see /api/openapi.json)`;
  }
  if (v.keyword === 'required') return `the ${where} needs ${(v.params as { missingProperty?: string }).missingProperty}`;
  return `${field ? `${field} in the ${where}` : `the ${where}`} ${v.message ?? 'is not valid'}`;
}

export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = (status: number, code: string, message: string) => reply.status(status).type('application/json; charset=utf-8').send({ error: code, message: message.replace(/\s*[\r\n]+\s*/g, ' ') } satisfies ApiErrorBody);
  if (err instanceof HttpError) {
    // RFC 6750 §3: a 401 names the scheme it wants.
    if (err.status === 401) reply.header('www-authenticate', 'Bearer realm="mms"');
    return body(err.status, err.code, err.message);
  }
  if (err instanceof RetryLater) reply.header('retry-after', String(Math.ceil(err.retryAfterMs / 1000)));
  if (err instanceof MmsError) return body(STATUS[err.code], err.code, err.message);
  if (isBusyError(err)) return body(503, 'Transient', 'the database stayed busy (the worker holds its write lock); try again in a moment');
  const fe = err as FastifyError;
  if (fe.validation) return body(400, 'Usage', validationMessage(fe));
  const { file, cmdlet } = (request.routeOptions.config ?? {}) as FileRouteConfig;
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return body(415, 'Usage', file ? fileHint(file) : 'send the fields as JSON, with content-type: application/json');
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const bytes = request.routeOptions.bodyLimit;
    const limit = bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MiB` : `${Math.round(bytes / 1024)} KiB`;
    return body(413, 'Usage', file
      ? `${file.what} is larger than ${limit}, the most this route takes; send it in parts (several files, each under ${limit}) or import it on the server with mms ${cmdlet} -${file.param}`
      : `the request body is larger than ${limit}, the most this route takes; send fewer or shorter fields`);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return body(fe.statusCode, 'Usage', fe.message);
  request.log.error({ err }, 'request failed');
  return body(500, 'Internal', `the request failed inside MMS; the service log has the details under request id ${request.id}`);
}
