import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLogCreator } from '../../../supernode/bus/kafka-log.ts';
import { RepeatLimiter } from '../../../edge/log/repeat-limiter.ts';

describe('RepeatLimiter', () => {
  it('lets a key through once, then once per period with the count held back; reset starts over', () => {
    let now = 0;
    const limiter = new RepeatLimiter(1_000, () => now);
    expect(limiter.pass('down')).toBe(0);
    now = 500;
    expect(limiter.pass('down')).toBeUndefined();
    expect(limiter.pass('down')).toBeUndefined();
    expect(limiter.pass('other')).toBe(0);
    now = 1_000;
    expect(limiter.pass('down')).toBe(2);
    expect(limiter.pass('down')).toBeUndefined();
    expect(limiter.reset('down')).toBe(1);
    expect(limiter.pass('down')).toBe(0);
  });
});

describe('kafkaLogCreator', () => {
  it('passes each distinct warning or error once per period, and info lines unthrottled', () => {
    const lines: { level: string; msg?: string; repeated?: unknown }[] = [];
    const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, msg, repeated: (obj as { repeated?: unknown }).repeated });
    const log = kafkaLogCreator({ debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, 60_000)(logLevel.WARN);
    const entry = (message: string) => ({ message, timestamp: 'now' });
    for (let i = 0; i < 20; i++) {
      log({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: entry('Connection error: connect ECONNREFUSED') });
      log({ namespace: 'Producer', level: logLevel.ERROR, label: 'ERROR', log: entry('Failed to send messages') });
    }
    log({ namespace: 'Producer', level: logLevel.INFO, label: 'INFO', log: entry('reconnected') });
    log({ namespace: 'Producer', level: logLevel.INFO, label: 'INFO', log: entry('reconnected') });
    // A replica starting on an existing topic: kafkajs' ERROR for TOPIC_ALREADY_EXISTS is debug.
    log({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: { ...entry('Response CreateTopics(key: 19, version: 3)'), error: 'Topic creation errors' } });
    expect(lines).toEqual([
      { level: 'error', msg: 'Connection error: connect ECONNREFUSED', repeated: undefined },
      { level: 'error', msg: 'Failed to send messages', repeated: undefined },
      { level: 'info', msg: 'reconnected', repeated: undefined },
      { level: 'info', msg: 'reconnected', repeated: undefined },
      { level: 'debug', msg: 'Response CreateTopics(key: 19, version: 3)', repeated: undefined },
    ]);
  });
});
