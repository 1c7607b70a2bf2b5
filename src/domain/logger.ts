/** What the background loops log with (pino fits); loggers without `debug` stay quiet at that level. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** Per-batch progress (pino's debug level); loggers without it stay quiet. */
  debug?(obj: object, msg?: string): void;
}
