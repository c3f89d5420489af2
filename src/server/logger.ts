// The logger of both processes (serve and controller): pino, with errors bounded (pino's own err serializer writes an
// error's message and stack whole, and a message may quote what the caller sent).
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/serve.js';
import { LOG_BUDGET, logText } from './log-text.js';

/** An error as a log field: its type, message and stack cut to their budgets; a text as a text. */
export function boundedError(err: unknown): Record<string, string> | string {
  if (typeof err === 'string') return logText(err, LOG_BUDGET.errorMessage);
  // Read by shape, not instanceof: an Error from another realm (a vm context) is one too.
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as {
    constructor?: { name?: unknown };
    name?: unknown;
    message?: unknown;
    stack?: unknown;
  };
  const fields: Record<string, string> = {
    type: logText(typeof e.constructor?.name === 'string' && e.constructor.name !== 'Object' ? e.constructor.name : e.name, 64),
    message: logText(e.message, LOG_BUDGET.errorMessage),
  };
  if (typeof e.stack === 'string') fields.stack = logText(e.stack, LOG_BUDGET.errorStack);
  return fields;
}

/**
 * One shape for every line: `time` as ISO-8601 (UTC) and `level` as its name, so a person and
 * a log pipeline read them without knowing pino's numbers.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: boundedError },
    },
    destination,
  );
}
