import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaEventBus } from '../../../supernode/bus/kafka-event-bus.ts';
import { bySource, SCHEMA_VERSION } from '../../../core/events/index.ts';
import { HEADER } from '../../../supernode/bus/kafka-message.ts';
import { kafkaBrokers } from '../../shared/env.ts';
import { eventBusConformance, storedStream, waitFor } from '../../shared/event-bus-conformance.ts';

// One topic per test file: tests of other files (and earlier runs) never share its log.
const topic = `damselfly.test.bus.${randomUUID()}`;
const open = () => KafkaEventBus.open({ brokers: kafkaBrokers(), topic, partitions: 4, clientId: 'bus-test' });

eventBusConformance('KafkaEventBus', open);

describe('KafkaEventBus on the wire', () => {
  let bus: KafkaEventBus;
  let raw: Kafka;
  beforeAll(async () => {
    bus = await open();
    raw = new Kafka({ brokers: kafkaBrokers(), clientId: 'bus-test-raw', logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await bus?.close();
  });

  it('keys by stream id into the partition partitionFor() names, with the headers', async () => {
    const events = storedStream(`wire-${randomUUID()}`, 3, 7);
    await bus.publish(events);
    const consumer = raw.consumer({ groupId: `raw-${randomUUID()}` });
    const got: { partition: number; key: string; headers: Record<string, string> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (message.key?.toString() !== events[0]!.streamId) return;
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        got.push({ partition, key: message.key.toString(), headers });
      },
    });
    await waitFor(() => got.length === 3, 'the raw consumer');
    await consumer.disconnect();
    const partition = await bus.partitionFor(events[0]!.streamId);
    expect(got.map((g) => g.partition)).toEqual([partition, partition, partition]);
    expect(got[2]!.headers).toEqual({
      [HEADER.eventId]: events[2]!.eventId,
      [HEADER.epoch]: '7',
      [HEADER.schemaVersion]: String(SCHEMA_VERSION),
      [HEADER.streamVersion]: '3',
      [HEADER.type]: events[2]!.type,
    });
  });

  it('publishes one task\'s burst of large events (3 MB, above the broker\'s 1 MB batch limit) in order', async () => {
    // Sync reports are tens of KB each and one task's events share a partition: sent as one
    // request, this burst would be one record batch the broker refuses.
    const streamId = `large-${randomUUID()}`;
    const ok = bySource(Array.from({ length: 400 }, (_, piece) => ({ piece, source: `peer-${piece % 16}`, ms: 250 })));
    const events = storedStream(streamId, 300).map((e) => ({ ...e, type: 'PiecesReported', data: { peerId: 'p', ok, failed: [], at: 1 } }) as typeof e);
    await bus.publish(events);
    const read = await bus.readStream(streamId);
    expect(read.map((e) => e.version)).toEqual(events.map((e) => e.version));
  });

  it('fails readStream on a malformed message, naming its partition and offset', async () => {
    const streamId = `bad-${randomUUID()}`;
    await bus.publish(storedStream(streamId, 2));
    const producer = raw.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: streamId, value: JSON.stringify({ eventId: 'x', type: 'Nope' }) }] });
    await producer.disconnect();
    const partition = await bus.partitionFor(streamId);
    await expect(bus.readStream(streamId)).rejects.toThrow(new RegExp(`malformed event x at kafka p${partition} o\\d+`));
  });

  it('reads only up to the high-water mark taken when the read starts', async () => {
    const events = storedStream(`hwm-${randomUUID()}`, 20);
    await bus.publish(events.slice(0, 10));
    const reading = bus.readStream(events[0]!.streamId);
    await bus.publish(events.slice(10));
    const read = await reading;
    // The read may or may not include the late ones depending on timing, but it is a prefix.
    expect(read.map((e) => e.version)).toEqual(events.slice(0, read.length).map((e) => e.version));
    expect(read.length).toBeGreaterThanOrEqual(10);
  });
});

describe('KafkaEventBus.open on a topic that does not exist yet', () => {
  it('lets several replicas open it at once: each can publish and read right away', async () => {
    // Replicas of a new cluster start together; all but one lose the create race, and a KRaft
    // broker answers "does not host this topic-partition" for a moment after the create.
    const fresh = `damselfly.test.bus.fresh.${randomUUID()}`;
    const buses = await Promise.all(
      Array.from({ length: 3 }, (_, i) => KafkaEventBus.open({ brokers: kafkaBrokers(), topic: fresh, partitions: 8, clientId: `bus-test-fresh-${i}` })),
    );
    try {
      const streams = buses.map((_, i) => storedStream(`fresh-${i}-${randomUUID()}`, 2));
      await Promise.all(buses.map((b, i) => b.publish(streams[i]!)));
      const read = await buses[0]!.readStream(streams[2]!.at(0)!.streamId);
      expect(read.map((e) => e.version)).toEqual([1, 2]);
    } finally {
      await Promise.all(buses.map((b) => b.close()));
    }
  });
});
