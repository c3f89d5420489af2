// The logging calls the cluster code makes; a pino logger fits it, tests pass silentLog.
export interface Log {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const nothing = (): void => {};
export const silentLog: Log = { debug: nothing, info: nothing, warn: nothing, error: nothing };
