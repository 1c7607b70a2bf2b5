// `mms serve`'s HTTP side: builds the API and listens on MMS_HTTP_ADDRESS; an address in use or not allowed is one
// line that says what to change (exit 2), not a stack trace.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Cmdlet } from '../cli/cmdlet.js';
import { MmsError } from '../domain/errors.js';
import type { Db } from '../store/index.js';
import { buildApi } from './app.js';

export interface RunningApi {
  /** What it listens on, as a URL (the port filled in when MMS_HTTP_ADDRESS asked for port 0). */
  readonly url: string;
  close(): Promise<void>;
}

export async function startApi(opts: { db: Db; config: Config; cmdlets: readonly Cmdlet[]; logger: Logger; address: NonNullable<Config['http']> }): Promise<RunningApi> {
  const app = await buildApi({ db: opts.db, config: opts.config, cmdlets: opts.cmdlets, loggerInstance: opts.logger.child({ component: 'http' }) });
  const { host, port } = opts.address;
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (code === 'EADDRINUSE') throw new MmsError('Config', `MMS_HTTP_ADDRESS ${where} is in use (another mms serve?): stop that process, or set MMS_HTTP_ADDRESS to a free port (or off)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new MmsError('Config', `MMS_HTTP_ADDRESS ${where}: this machine has no such address; use 127.0.0.1:8080, or an address of this machine`);
    if (code === 'EACCES') throw new MmsError('Config', `MMS_HTTP_ADDRESS ${where}: ports below 1024 need privileges; use a port above 1023 (8080) behind a proxy`);
    throw err;
  }
  const a = app.server.address();
  const url = a && typeof a === 'object' ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : `http://${host}:${port}`;
  return { url, close: () => app.close() };
}
