import type { Command } from 'commander';
import { usageError } from '../../core/errors.ts';
import { isTaskId } from '../../core/ids/index.ts';
import { streamOnce, type StoredEvent } from '../../core/events/index.ts';
import { parseSupernodeConfig } from '../config.ts';
import { createLogger } from '../../edge/log/logger.ts';
import { openEventBus, openEventStore } from '../wiring/open-ports.ts';

export interface SourceFlags {
  task: string;
  databaseUrl?: string;
  kafkaBrokers?: string;
  kafkaTopic?: string;
  dataDir?: string;
}

/** The flags that say where a task's events are (same defaults as `damselfly supernode`). */
export function sourceOptions(cmd: Command): Command {
  return cmd
    .option('--database-url <url>', 'PostgreSQL URL (env DAMSELFLY_DATABASE_URL); else the embedded store in --data-dir')
    .option('--kafka-brokers <h:p,..>', 'Kafka brokers (env DAMSELFLY_KAFKA_BROKERS)')
    .option('--kafka-topic <name>', 'topic of the events')
    .option('--data-dir <dir>', 'the supernode\'s data directory (embedded store)', '.damselfly/supernode');
}

/** Reads every event of one task from the event store or from the Kafka topic. */
export async function readTaskEvents(taskId: string, from: 'postgres' | 'kafka', flags: SourceFlags): Promise<StoredEvent[]> {
  if (!isTaskId(taskId)) throw usageError(`--task must be 64 hex digits, got ${taskId}`);
  const config = parseSupernodeConfig({ databaseUrl: flags.databaseUrl, kafkaBrokers: flags.kafkaBrokers, kafkaTopic: flags.kafkaTopic, dataDir: flags.dataDir });
  const logger = createLogger({ level: 'warn' });
  if (from === 'kafka') {
    if (config.kafkaBrokers.length === 0) throw usageError('--from kafka needs --kafka-brokers or DAMSELFLY_KAFKA_BROKERS');
    const bus = await openEventBus(config, logger);
    try {
      // The topic holds re-published ranges (at-least-once): fold each version once.
      return streamOnce(await bus.readStream(taskId));
    } finally {
      await bus.close();
    }
  }
  const store = await openEventStore(config);
  try {
    const events: StoredEvent[] = [];
    for (;;) {
      const page = await store.readStream(taskId, { fromVersion: events.length, limit: 10_000 });
      events.push(...page);
      if (page.length < 10_000) return events;
    }
  } finally {
    await store.close();
  }
}
