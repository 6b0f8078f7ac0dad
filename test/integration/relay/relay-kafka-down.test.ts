import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaEventBus } from '../../../supernode/bus/kafka-event-bus.ts';
import { OutboxRelay } from '../../../supernode/relay/outbox-relay.ts';
import type { EventStore } from '../../../supernode/store/event-store.ts';
import { databaseUrl, kafkaBrokers } from '../../shared/env.ts';
import { waitFor } from '../../shared/event-bus-conformance.ts';
import { freshDatabase } from '../../../bench/cluster/fresh-database.ts';
import { openStore } from './open-store.ts';
import { readTopic } from './read-topic.ts';
import { appendConcurrently, checkTopic } from './relay-fixtures.ts';
import { switchableSockets } from './switchable-sockets.ts';

/**
 * Kafka unreachable: the relay's real kafkajs producer loses its connections (reset mid-request,
 * new ones refused) through a socket factory with an off switch — a network outage as kafkajs
 * sees it, without stopping the broker the other test files share (infra/dev/kafka-down.sh
 * would, and it is the chaos suite's tool).
 */
describe('OutboxRelay with Kafka unreachable (real Postgres + Kafka)', () => {
  const topic = `damselfly.test.relay-down.${randomUUID()}`;
  const network = switchableSockets();
  const warnings: string[] = [];
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let store: EventStore;
  let bus: KafkaEventBus;
  beforeAll(async () => {
    db = await freshDatabase(databaseUrl(), 'relay_down');
    store = await openStore(db.url);
    bus = await KafkaEventBus.open({ brokers: kafkaBrokers(), topic, client: { socketFactory: network.factory } });
  });
  afterAll(async () => {
    network.restore();
    await bus?.close();
    await store?.close();
    await db?.drop();
  });

  it('keeps appending while Kafka is down, then catches up in per-task order with nothing lost', async () => {
    const logger = { debug() {}, info() {}, error() {}, warn: (_: object, msg?: string) => void warnings.push(msg ?? '') };
    const relay = new OutboxRelay({ store, bus, batchSize: 100, pollMs: 20, maxBackoffMs: 500, logger }).start();
    const streamIds = Array.from({ length: 10 }, (_, i) => `down-${i}-${randomUUID()}`);
    const before = await appendConcurrently(store, streamIds, 20);
    relay.wake(before.length);
    await relay.flush(30_000);

    network.cut();
    const t0 = Date.now();
    const during = await appendConcurrently(store, streamIds, 30, { fromVersion: 20 });
    const appendMs = Date.now() - t0;
    relay.wake(during.length);
    await waitFor(() => relay.stats.failures >= 2, 'the relay to fail against the cut network');
    expect(relay.lag()).toBeGreaterThan(0);
    expect(warnings).toContain('relay pass failed; backing off');
    // Nothing of the outage window reached the topic (read with a client of its own).
    expect(await readTopic(kafkaBrokers(), topic)).toHaveLength(before.length);

    network.restore();
    await relay.flush(60_000);
    expect(relay.lag()).toBe(0);
    await relay.stop();

    const result = checkTopic(await readTopic(kafkaBrokers(), topic), [...before, ...during], new Map(streamIds.map((s) => [s, 50])));
    expect(result.missing).toEqual([]);
    expect(result.splitStreams).toEqual([]);
    expect(result.badStreams).toEqual([]);
    expect(result.distinct).toBe(500);
    console.log(`kafka down: ${during.length} events appended during the outage in ${appendMs} ms, relay failures ${relay.stats.failures}`);
  });
});
