import type { Kafka } from 'kafkajs';
import type { StoredEvent } from '../../core/events/index.ts';
import { deliverWithRetry, type BatchHandler } from './deliver-with-retry.ts';
import { fromKafkaMessage } from './kafka-message.ts';
import type { LogSink } from './log-sink.ts';

export interface KafkaSubscription {
  kafka: Kafka;
  topic: string;
  groupId: string;
  handle: BatchHandler;
  log: LogSink;
}

/**
 * A consumer-group member that hands each fetched batch (one partition's messages, in offset
 * order) to `handle` and commits the offset after it only once `handle` resolved. A crash or
 * stop before the commit means the batch is delivered again: at-least-once.
 *
 * A malformed message is logged and fails the batch, which is then retried: the partition
 * stalls visibly (an operator must act) rather than skipping an event.
 */
export async function startKafkaSubscription(s: KafkaSubscription): Promise<() => Promise<void>> {
  // maxWaitTimeInMs bounds how long a stop waits for an idle fetch to return.
  const consumer = s.kafka.consumer({ groupId: s.groupId, maxWaitTimeInMs: 500, maxBytesPerPartition: 4 << 20 });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    s.log.error({ err: payload.error, groupId: s.groupId, restart: payload.restart }, 'kafka consumer crashed');
  });
  await consumer.connect();
  let stopping = false;
  try {
    await consumer.subscribe({ topics: [s.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (batch.isEmpty()) return;
        const where = `kafka ${s.topic} p${batch.partition} group ${s.groupId}`;
        const handleDecoded = async () => {
          const events: StoredEvent[] = [];
          for (const m of batch.messages) events.push(fromKafkaMessage(m, batch.partition));
          await s.handle(events);
        };
        const handled = await deliverWithRetry(handleDecoded, {
          isRunning: () => !stopping && isRunning() && !isStale(),
          heartbeat: () =>
            heartbeat().catch((err) => {
              // A failed heartbeat means a rebalance; isStale() turns true and the batch is
              // left to the partition's next owner.
              s.log.debug({ err, where }, 'heartbeat failed while retrying a batch');
            }),
          log: s.log,
          where,
          events: batch.messages.length,
        });
        if (!handled) return;
        const last = batch.lastOffset();
        resolveOffset(last);
        await consumer.commitOffsets([{ topic: s.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      },
    });
  } catch (err) {
    await consumer.disconnect();
    throw err;
  }
  return async () => {
    stopping = true;
    await consumer.disconnect();
  };
}
