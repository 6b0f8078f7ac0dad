import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { StoredEvent } from '../../../core/events/index.ts';
import { fromKafkaMessage } from '../../../supernode/bus/kafka-message.ts';
import { waitFor } from '../../shared/event-bus-conformance.ts';

export interface TopicMessage {
  partition: number;
  offset: bigint;
  key: string;
  event: StoredEvent;
}

/** Every message of a topic up to its current high-water marks, each partition in offset order. */
export async function readTopic(brokers: string[], topic: string): Promise<TopicMessage[]> {
  const kafka = new Kafka({ brokers, clientId: 'read-topic', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  const high = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  const expected = offsets.reduce((n, o) => n + Number(BigInt(o.high) - BigInt(o.low)), 0);
  const out: TopicMessage[] = [];
  const next = new Map<number, bigint>();
  const groupId = `read-topic-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 8 << 20, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset >= high.get(batch.partition)! || offset < (next.get(batch.partition) ?? 0n)) continue;
          next.set(batch.partition, offset + 1n);
          out.push({ partition: batch.partition, offset, key: m.key!.toString(), event: fromKafkaMessage(m, batch.partition) });
        }
      },
    });
    await waitFor(() => out.length >= expected, `${expected} messages of ${topic} (have ${out.length})`, 120_000);
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined); // best effort cleanup
    await admin.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
}
