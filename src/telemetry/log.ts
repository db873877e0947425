import { pino } from 'pino';
import type { Logger } from '../core/log.ts';
import { redactValue } from '../secrets/redact.ts';

/**
 * Structured JSON logs on stderr (stdout is kept for command output: demo lines, preview, emulate).
 * Every field passes through `redactValue`, so a secret cannot reach a log line even inside an error.
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export function createLogger(level: LogLevel = 'info', destination: NodeJS.WritableStream = process.stderr): Logger {
  const logger = pino(
    {
      level,
      base: { service: 'auditrelay' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redactValue(obj) as Record<string, unknown>,
      },
      hooks: {
        // The message string itself can carry a secret (e.g. an error message from a library).
        logMethod(args, method) {
          const redacted = args.map((a) => (typeof a === 'string' ? (redactValue(a) as string) : a));
          return method.apply(this, redacted as Parameters<typeof method>);
        },
      },
      serializers: { err: (err: unknown) => redactValue(err) },
    },
    pino.destination({ dest: destinationFd(destination), sync: true }),
  );
  // Child bindings (`log.child({...})`) skip `formatters.log`, and pino resets `formatters.bindings`
  // for children: scrub them here. Children inherit from this instance, so theirs are scrubbed too.
  type ChildFn = (this: unknown, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => unknown;
  const child = logger.child as unknown as ChildFn;
  const scrubbed: ChildFn = function (this: unknown, bindings, options) {
    return child.call(this, redactValue(bindings) as pino.Bindings, options);
  };
  logger.child = scrubbed as unknown as typeof logger.child;
  return logger;
}

function destinationFd(stream: NodeJS.WritableStream): number {
  return stream === process.stdout ? 1 : 2;
}

/** A logger that drops everything: for tests and `preview`, where stderr is for the user. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
