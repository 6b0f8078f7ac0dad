import kafkajs from 'kafkajs';
import { KafkaEventBus } from '../../supernode/bus/kafka-event-bus.ts';

export interface KafkaTarget {
  bus: KafkaEventBus;
  topic: string;
  partitions: number;
  /** Closes the bus and deletes the topic. */
  drop(): Promise<void>;
}

/**
 * The Kafka side of one run: a topic of its own (so runs never mix and a readStream scans only
 * this run's partition), partitioned like the supernode's default topic. Deleting a topic is
 * not part of the EventBus port (the supernode never does it), so the benchmark uses a kafkajs
 * admin client of its own for that.
 */
export async function openKafkaTarget(brokers: string[], runId: string, partitions = 8): Promise<KafkaTarget> {
  const topic = `damselfly.bench.${runId}`;
  let bus: KafkaEventBus;
  try {
    bus = await KafkaEventBus.open({ brokers, topic, partitions, clientId: 'damselfly-bench' });
  } catch (err) {
    throw new Error(`Kafka unreachable at ${brokers.join(',')}: ${(err as Error).message}`, { cause: err });
  }
  return { bus, topic, partitions, drop: () => dropTopic(bus, brokers, topic) };
}

async function dropTopic(bus: KafkaEventBus, brokers: string[], topic: string): Promise<void> {
  await bus.close();
  const admin = new kafkajs.Kafka({ brokers, clientId: 'damselfly-bench', logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
