import { logLevel, type logCreator } from 'kafkajs';
import type { LogSink } from '../../edge/log/log-sink.ts';
import { RepeatLimiter } from '../../edge/log/repeat-limiter.ts';

/**
 * Routes kafkajs' own logging into our logger instead of the console. kafkajs is chatty at
 * INFO (every group join, every reconnect), so the client is created at WARN: what reaches the
 * supernode's log is what an operator should look at.
 */
export const KAFKA_LOG_LEVEL = logLevel.WARN;

/** While a broker is away, the same kafkajs complaint is logged at most this often. */
export const KAFKA_LOG_REPEAT_MS = 10_000;

/**
 * kafkajs logs every error a broker answers, at ERROR, before the caller sees it. A replica
 * that starts on an existing topic (every start but the cluster's first) gets
 * TOPIC_ALREADY_EXISTS from `createTopics`, which kafkajs then treats as success: an ERROR line
 * on every normal start. ensureTopic (kafka-topic.ts) fails the start with the real reason when
 * a create does fail, so this one line is debug.
 */
function expectedAnswer(namespace: string, extra: Record<string, unknown>): boolean {
  return namespace === 'Connection' && extra.error === 'Topic creation errors';
}

export function kafkaLogCreator(log: LogSink, repeatMs = KAFKA_LOG_REPEAT_MS): logCreator {
  // During a broker outage kafkajs logs an ERROR for every retry of every request (connection
  // refused, "Failed to send messages", metadata refreshes): the same few lines many times a
  // second. Each distinct line passes once, then once per `repeatMs` with the count held back.
  const repeats = new RepeatLimiter(repeatMs);
  return () =>
    ({ namespace, level, log: entry }) => {
      const { message, timestamp: _timestamp, ...extra } = entry;
      const obj: Record<string, unknown> = { component: 'kafkajs', namespace, ...extra };
      if (expectedAnswer(namespace, extra)) return log.debug(obj, message);
      if (level === logLevel.ERROR || level === logLevel.WARN) {
        const held = repeats.pass(`${level}|${namespace}|${message}`);
        if (held === undefined) return;
        if (held > 0) obj.repeated = held;
      }
      if (level === logLevel.ERROR) log.error(obj, message);
      else if (level === logLevel.WARN) log.warn(obj, message);
      else if (level === logLevel.INFO) log.info(obj, message);
      else log.debug(obj, message);
    };
}
