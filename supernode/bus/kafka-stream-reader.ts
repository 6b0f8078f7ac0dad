import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { StoredEvent } from '../../core/events/index.ts';
import { fromKafkaMessage } from './kafka-message.ts';
import { DamselflyError } from '../../core/errors.ts';

export interface PartitionRead {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  partition: number;
  key: string;
  timeoutMs: number;
}

/**
 * Every message of `key` in one partition, from the earliest retained offset up to the high-
 * water mark captured before reading: a bounded read, so it terminates while producers keep
 * writing. kafkajs has no manual partition assignment, so this joins a throw-away consumer
 * group of its own (one member → it gets every partition; the others are paused), commits
 * nothing, and deletes the group afterwards.
 */
export async function readKeyFromPartition(r: PartitionRead): Promise<StoredEvent[]> {
  const offsets = await r.admin.fetchTopicOffsets(r.topic);
  const bounds = offsets.find((o) => o.partition === r.partition);
  if (!bounds) throw new DamselflyError('DF_ERR_UNAVAILABLE', `kafka topic ${r.topic} has no partition ${r.partition}`);
  const high = BigInt(bounds.high);
  // `next` is the first offset not yet looked at: a batch fetched twice (e.g. across the
  // group's first fetch and the pause) is skipped instead of yielding duplicates.
  let next = BigInt(bounds.low);
  if (next >= high) return [];

  const groupId = `damselfly.read.${randomUUID()}`;
  const consumer = r.kafka.consumer({ groupId, maxBytesPerPartition: 8 << 20, maxBytes: 32 << 20, maxWaitTimeInMs: 200 });
  const out: StoredEvent[] = [];
  let settle!: (err?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  const timer = setTimeout(
    () => settle(new DamselflyError('DF_ERR_UNAVAILABLE', `reading kafka ${r.topic} p${r.partition} timed out after ${r.timeoutMs} ms`)),
    r.timeoutMs,
  );
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [r.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (batch.partition !== r.partition || next >= high) return;
        try {
          for (const m of batch.messages) {
            const offset = BigInt(m.offset);
            if (offset < next) continue;
            if (offset >= high) break;
            next = offset + 1n;
            if (m.key !== null && m.key.toString('utf8') === r.key) out.push(fromKafkaMessage(m, r.partition));
          }
          if (BigInt(batch.lastOffset()) + 1n >= high) next = high;
          if (next >= high) settle();
        } catch (err) {
          // A malformed event fails the whole read (with its partition and offset): a replay
          // must never silently skip an event.
          settle(err);
        }
      },
    });
    const others = offsets.map((o) => o.partition).filter((p) => p !== r.partition);
    if (others.length > 0) consumer.pause([{ topic: r.topic, partitions: others }]);
    await done;
    return out;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
    // Best effort: an empty group with no commits expires on its own anyway.
    await r.admin.deleteGroups([groupId]).catch(() => undefined);
  }
}
