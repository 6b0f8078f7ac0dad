import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { KafkaEventBus } from '../../../supernode/bus/kafka-event-bus.ts';
import { OutboxRelay } from '../../../supernode/relay/outbox-relay.ts';
import type { EventStore } from '../../../supernode/store/event-store.ts';
import { useRelayEnvironment } from './relay-environment.ts';
import { appendConcurrently } from './relay-fixtures.ts';

/** Measures (prints, does not assert speed): Postgres → Kafka relay rate and Kafka replay rate. */
describe('relay and replay throughput (printed)', () => {
  const env = useRelayEnvironment('relay-rate');
  let store: EventStore;
  let bus: KafkaEventBus;
  beforeAll(() => {
    ({ store, bus } = env);
  });

  it('relays 20,000 events and replays streams from Kafka', async () => {
    const streamIds = Array.from({ length: 200 }, (_, i) => `rate-${i}-${randomUUID()}`);
    let t = performance.now();
    const ids = await appendConcurrently(store, streamIds, 100, { chunk: 50 });
    const appendS = (performance.now() - t) / 1000;

    const relay = new OutboxRelay({ store, bus, batchSize: 1000, pollMs: 50 });
    t = performance.now();
    await relay.flush(); // not started: drains inline, as fast as it can
    const relayS = (performance.now() - t) / 1000;
    expect(relay.stats.published).toBe(ids.length);

    t = performance.now();
    let read = 0;
    for (const streamId of streamIds.slice(0, 5)) {
      const events = await bus.readStream(streamId);
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      read += events.length;
    }
    const readS = (performance.now() - t) / 1000;
    // Each readStream scans its stream's whole partition: about 1/8 of the 20k events.
    const scanned = (5 * ids.length) / 8;
    console.log(
      [
        `append (Postgres, 50-event appends, 200 streams concurrently): ${Math.round(ids.length / appendS)} events/s`,
        `relay Postgres→Kafka (batch 1000): ${Math.round(ids.length / relayS)} events/s (${relayS.toFixed(2)} s for ${ids.length})`,
        `Kafka readStream: ${(readS / 5 * 1000).toFixed(0)} ms per stream, ${Math.round(read / readS)} stream events/s, ~${Math.round(scanned / readS)} partition messages scanned/s`,
      ].join('\n'),
    );
  });
});
