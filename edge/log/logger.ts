import pino, { type Logger } from 'pino';

/**
 * The one logger factory. Redaction is the last line of defence for secrets: request headers
 * that may carry credentials are censored wherever they appear in a log object, and code never
 * logs origin headers on purpose (see docs/security.md).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'headers.Authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'body.headers',
  'token',
  'password',
  'databaseUrl',
];

export function createLogger(opts: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  const options: pino.LoggerOptions = {
    name: opts.name ?? 'damselfly',
    level: opts.level ?? process.env.DAMSELFLY_LOG_LEVEL ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options, pino.destination(2));
}

export type { Logger };
