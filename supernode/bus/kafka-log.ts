import { logLevel, type logCreator } from 'kafkajs';
import type { LogSink } from './log-sink.ts';

/**
 * Routes kafkajs' own logging into our logger instead of the console. kafkajs is chatty at
 * INFO (every group join, every reconnect), so the client is created at WARN: what reaches the
 * supernode's log is what an operator should look at.
 */
export const KAFKA_LOG_LEVEL = logLevel.WARN;

export function kafkaLogCreator(log: LogSink): logCreator {
  return () =>
    ({ namespace, level, log: entry }) => {
      const { message, timestamp: _timestamp, ...extra } = entry;
      const obj = { component: 'kafkajs', namespace, ...extra };
      if (level === logLevel.ERROR) log.error(obj, message);
      else if (level === logLevel.WARN) log.warn(obj, message);
      else if (level === logLevel.INFO) log.info(obj, message);
      else log.debug(obj, message);
    };
}
