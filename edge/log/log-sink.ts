/**
 * The logging surface the bus and the relay need: a structural subset of pino's Logger, so the
 * supernode passes its pino logger and tests pass `silentLog` (or a spy) without pino.
 */
export interface LogSink {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLog: LogSink = Object.freeze({
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
});
