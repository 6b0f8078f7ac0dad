import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../core/events/index.ts';
import { KafkaEventBus } from '../../../supernode/bus/kafka-event-bus.ts';
import { OutboxRelay } from '../../../supernode/relay/outbox-relay.ts';
import type { EventStore } from '../../../supernode/store/event-store.ts';
import { waitFor } from '../../shared/event-bus-conformance.ts';
import { readTopic } from './read-topic.ts';
import { kafkaBrokers } from '../../shared/env.ts';
import { useRelayEnvironment } from './relay-environment.ts';
import { appendConcurrently, checkTopic } from './relay-fixtures.ts';

const STREAMS = 20;
const PER_STREAM = 100;

describe('OutboxRelay crash (real Postgres + Kafka)', () => {
  const env = useRelayEnvironment('relay-crash');
  const topic = env.topic;
  let store: EventStore;
  let bus: KafkaEventBus;
  beforeAll(() => {
    ({ store, bus } = env);
  });

  it('restarts from the durable cursor: every event published, in per-task order, duplicates only exact re-publishes', async () => {
    // The first relay's process "dies" right after Kafka acked its 6th batch, before it could
    // save the cursor: that batch is on the topic but the durable cursor is one batch behind.
    let calls = 0;
    let dead = false;
    const dying = {
      async publish(events: StoredEvent[]) {
        if (dead) throw new Error('process is dead');
        calls += 1;
        await bus.publish(events);
        if (calls === 6) {
          dead = true;
          throw new Error('killed between publish and saveCursor');
        }
      },
    };
    const first = new OutboxRelay({ store, bus: dying, batchSize: 50, pollMs: 10, maxBackoffMs: 50 }).start();
    const streamIds = Array.from({ length: STREAMS }, (_, i) => `crash-${i}-${randomUUID()}`);
    const appending = appendConcurrently(store, streamIds, PER_STREAM);
    await waitFor(() => dead, 'the first relay to die');
    await first.stop();
    const ids = await appending;
    const cursorAtCrash = await store.loadCursor('kafka-relay');

    const second = new OutboxRelay({ store, bus, batchSize: 50, pollMs: 10 }).start();
    await second.flush(60_000);
    await second.stop();

    const messages = await readTopic(kafkaBrokers(), topic);
    const result = checkTopic(messages, ids, new Map(streamIds.map((s) => [s, PER_STREAM])));
    expect(result.missing).toEqual([]);
    expect(result.splitStreams).toEqual([]);
    expect(result.badStreams).toEqual([]);
    expect(result.distinct).toBe(STREAMS * PER_STREAM);
    // The crashed batch went out twice: the path under test was exercised.
    expect(result.duplicates).toBeGreaterThan(0);
    expect(result.duplicates).toBeLessThanOrEqual(50);
    expect(messages).toHaveLength(STREAMS * PER_STREAM + result.duplicates);
    console.log(`relay crash: cursor at crash ${JSON.stringify(cursorAtCrash)}, ${messages.length} messages, ${result.duplicates} re-published`);
  });
});
