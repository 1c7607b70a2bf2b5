/**
 * The one typed error callers branch on. `code` decides the CLI exit code and the HTTP status;
 * the message is one line that says what is wrong and how to fix it.
 */
export type MmsErrorCode =
  | 'Usage' // bad command line or parameter value: exit 2, HTTP 400
  | 'NotFound' // unknown user, bridge, tenant, request: exit 1, HTTP 404
  | 'Conflict' // the change contradicts current state: exit 1, HTTP 409
  | 'Invalid' // input that cannot be used (malformed iCalendar, bad number): exit 1, HTTP 422
  | 'Config' // bad MMS_* environment: exit 2 at start
  | 'Transient'; // worth retrying (lost connection, lock timeout)

export class MmsError extends Error {
  readonly code: MmsErrorCode;
  constructor(code: MmsErrorCode, message: string) {
    super(message);
    this.name = 'MmsError';
    this.code = code;
  }
}

/** A transient failure that must not be retried before `retryAfterMs` (a server's Retry-After). */
export class RetryLater extends MmsError {
  constructor(message: string, readonly retryAfterMs: number) {
    super('Transient', message);
    this.name = 'RetryLater';
  }
}

export const usageError = (message: string): MmsError => new MmsError('Usage', message);
export const notFound = (message: string): MmsError => new MmsError('NotFound', message);
export const conflict = (message: string): MmsError => new MmsError('Conflict', message);
export const invalid = (message: string): MmsError => new MmsError('Invalid', message);
