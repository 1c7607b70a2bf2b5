// Routes whose cmdlet reads or writes a file (routes.ts `file`): Import-MmsCalendar takes the .ics as the request
// body (text/calendar, the bytes kept exactly as sent: strict UTF-8 decoding and byte-for-byte storage happen where
// the command line's do), Export-MmsCalendar answers it. The cmdlet gets the bytes through CmdletContext.files and
// never opens a file of the server: the -Path of the command line stays on the caller's machine.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FileTransfer } from '../cli/cmdlet.js';
import { HttpError } from './errors.js';
import type { FileRoute } from './routes.js';

/** What the import's messages call the file when it came as a request body. */
export const BODY_NAME = 'the request body';

/** Route `config` the error handler reads to say what a refused body should have been (errors.ts). */
export interface FileRouteConfig {
  readonly file?: FileRoute;
  readonly cmdlet?: string;
}

/** Takes each media type a file route accepts as raw bytes (no decoding: the cmdlet checks UTF-8 with its own rules). */
export function registerFileParsers(app: FastifyInstance, routes: readonly FileRoute[]): void {
  const types = new Set(routes.filter((r) => r.direction === 'body').map((r) => r.mediaType));
  for (const type of types) app.addContentTypeParser(type, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
}

/** How to send a file: the one line a refused body (415, an empty one) answers. */
export function fileHint(file: FileRoute): string {
  return `send ${file.what} as the request body, with content-type: ${file.mediaType}`;
}

/** The request body schema of a file route that takes the file (validation is the handler's, see isBinarySchema). */
export function fileBodySchema(file: FileRoute): Record<string, unknown> | undefined {
  if (file.direction !== 'body') return undefined;
  return { content: { [file.mediaType]: { schema: { type: 'string', format: 'binary', description: `${capital(file.what)}, byte for byte.` } } } };
}

/** The 200 answer of a file route that answers the file (sent as bytes: never serialized). */
export function fileAnswerSchema(file: FileRoute): Record<string, unknown> | undefined {
  if (file.direction !== 'answer') return undefined;
  return { description: `${capital(file.what)}, what \`-Path\` would hold.`, content: { [file.mediaType]: { schema: { type: 'string', format: 'binary' } } } };
}

const capital = (s: string): string => `${s[0]!.toUpperCase()}${s.slice(1)}`;

/** A validator for the raw body of a file route: the content-type parser already made it bytes (the handler checks). */
export const isBinarySchema = (schema: unknown): boolean => (schema as { format?: unknown }).format === 'binary';

/**
 * The cmdlet's view of a file route's request: `read` hands it the body, `write` keeps its answer for sendFile.
 * Throws HttpError 415/400 when the body is not the file.
 */
export function fileTransfer(request: FastifyRequest, file: FileRoute): FileTransfer & { readonly written: () => string | undefined } {
  let written: string | undefined;
  return {
    read(param) {
      if (param !== file.param) throw new Error(`${param} is not the file parameter of this route (${file.param})`);
      const body = request.body;
      if (body === undefined || body === null || (Buffer.isBuffer(body) && body.byteLength === 0)) throw new HttpError(400, 'Usage', `the request body is empty: ${fileHint(file)}`);
      if (!Buffer.isBuffer(body)) throw new HttpError(415, 'Usage', `${fileHint(file)}, not ${String(request.headers['content-type']).split(';')[0]}`);
      return { bytes: body, name: BODY_NAME };
    },
    write(param, text) {
      if (param !== file.param) throw new Error(`${param} is not the file parameter of this route (${file.param})`);
      written = text;
    },
    written: () => written,
  };
}

/** Answers the file a cmdlet wrote, as a download named after the mailbox. */
export function sendFile(reply: FastifyReply, file: FileRoute, text: string, identity: string): FastifyReply {
  const name = `${identity.replace(/[^A-Za-z0-9@._-]/g, '_')}${file.mediaType === 'text/calendar' ? '.ics' : ''}`;
  return reply.status(200).type(`${file.mediaType}; charset=utf-8`).header('content-disposition', `attachment; filename="${name}"`).send(Buffer.from(text, 'utf8'));
}
