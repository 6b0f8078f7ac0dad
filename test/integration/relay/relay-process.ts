/**
 * A relay in a process of its own, for the SIGKILL test (relay-sigkill.test.ts): it publishes
 * with a pause per batch so that the test can kill it mid-stream, and prints one line per batch.
 * Settings come from the environment: DATABASE_URL, KAFKA_BROKERS, TOPIC, BATCH, PAUSE_MS.
 */
import type { StoredEvent } from '../../../core/events/index.ts';
import { KafkaEventBus } from '../../../supernode/bus/kafka-event-bus.ts';
import { OutboxRelay } from '../../../supernode/relay/outbox-relay.ts';
import { openStore } from './open-store.ts';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const store = await openStore(env('DATABASE_URL'));
const bus = await KafkaEventBus.open({ brokers: env('KAFKA_BROKERS').split(','), topic: env('TOPIC') });
const pauseMs = Number(process.env.PAUSE_MS ?? '20');
let published = 0;
const paced = {
  async publish(events: StoredEvent[]) {
    await bus.publish(events);
    published += events.length;
    process.stdout.write(`published ${published}\n`);
    await new Promise((r) => setTimeout(r, pauseMs));
  },
};
new OutboxRelay({ store, bus: paced, batchSize: Number(env('BATCH')), pollMs: 10 }).start();
process.stdout.write('started\n');
