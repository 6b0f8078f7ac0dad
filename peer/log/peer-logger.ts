/**
 * The logging port of the peer side: the shape pino's Logger already has, so the CLI passes a
 * pino logger and tests pass nothing (silent) or a recorder. Log objects never carry origin
 * headers; where a header set must be described, it goes through redactHeaders first.
 */
export interface PeerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const nothing = () => {};
export const silentLogger: PeerLogger = { debug: nothing, info: nothing, warn: nothing, error: nothing };
