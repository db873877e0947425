/**
 * The structured logger every component writes to, as the core sees it: an object of fields and a
 * message. `telemetry/log.ts` makes the daemon's (pino, JSON on stderr, every field redacted).
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger that adds `bindings` to every line (`{ stream: id }`). */
  child(bindings: Record<string, unknown>): Logger;
}

export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}
