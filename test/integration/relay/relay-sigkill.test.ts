import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaEventBus } from '../../../supernode/bus/kafka-event-bus.ts';
import { OutboxRelay } from '../../../supernode/relay/outbox-relay.ts';
import type { EventStore } from '../../../supernode/store/event-store.ts';
import { databaseUrl, kafkaBrokers } from '../../shared/env.ts';
import { waitFor } from '../../shared/event-bus-conformance.ts';
import { freshDatabase } from './fresh-database.ts';
import { openStore } from './open-store.ts';
import { readTopic } from './read-topic.ts';
import { appendConcurrently, checkTopic } from './relay-fixtures.ts';

const child = fileURLToPath(new URL('./relay-process.ts', import.meta.url));

/** The relay process is SIGKILLed mid-stream (no flush, no cleanup); a new one resumes. */
describe('OutboxRelay killed with SIGKILL (real Postgres + Kafka)', () => {
  const topic = `damselfly.test.relay-kill.${randomUUID()}`;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let store: EventStore;
  let bus: KafkaEventBus;
  beforeAll(async () => {
    db = await freshDatabase(databaseUrl(), 'relay_kill');
    store = await openStore(db.url);
    bus = await KafkaEventBus.open({ brokers: kafkaBrokers(), topic });
  });
  afterAll(async () => {
    await bus?.close();
    await store?.close();
    await db?.drop();
  });

  it('loses nothing and keeps per-task order when the relay process is killed mid-stream', async () => {
    const streamIds = Array.from({ length: 20 }, (_, i) => `kill-${i}-${randomUUID()}`);
    const ids = await appendConcurrently(store, streamIds, 100);
    // node itself with tsx's loader (not the tsx CLI, which runs the script in a grandchild
    // that a SIGKILL to the CLI would leave running).
    const proc = spawn(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, DATABASE_URL: db.url, KAFKA_BROKERS: kafkaBrokers().join(','), TOPIC: topic, BATCH: '40', PAUSE_MS: '30' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let published = 0;
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const m of chunk.matchAll(/published (\d+)/g)) published = Number(m[1]);
    });
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    await waitFor(() => published >= 600, 'the relay process to publish 600 events', 90_000);
    proc.kill('SIGKILL');
    await exited;
    expect(published).toBeLessThan(ids.length);

    const resumed = new OutboxRelay({ store, bus, batchSize: 200 });
    await resumed.flush(60_000);
    const messages = await readTopic(kafkaBrokers(), topic);
    const result = checkTopic(messages, ids, new Map(streamIds.map((s) => [s, 100])));
    expect(result.missing).toEqual([]);
    expect(result.splitStreams).toEqual([]);
    expect(result.badStreams).toEqual([]);
    expect(result.distinct).toBe(ids.length);
    expect(result.duplicates).toBeLessThanOrEqual(40);
    console.log(`relay SIGKILL after ${published} events: resumed relay published ${resumed.stats.published}, ${result.duplicates} duplicates on the topic`);
  });
});
