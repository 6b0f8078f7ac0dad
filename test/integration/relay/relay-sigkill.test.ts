import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { KafkaEventBus } from '../../../supernode/bus/kafka-event-bus.ts';
import { OutboxRelay } from '../../../supernode/relay/outbox-relay.ts';
import type { EventStore } from '../../../supernode/store/event-store.ts';
import { waitFor } from '../../shared/event-bus-conformance.ts';
import { readTopic } from './read-topic.ts';
import { kafkaBrokers } from '../../shared/env.ts';
import { useRelayEnvironment, type RelayEnvironment } from './relay-environment.ts';
import { appendConcurrently, checkTopic } from './relay-fixtures.ts';

const child = fileURLToPath(new URL('./relay-process.ts', import.meta.url));
const BATCH = 40;

/** The relay process is SIGKILLed mid-stream (no flush, no cleanup); a new one resumes. */
describe('OutboxRelay killed with SIGKILL (real Postgres + Kafka)', () => {
  const env = useRelayEnvironment('relay-kill');
  const topic = env.topic;
  let store: EventStore;
  let bus: KafkaEventBus;
  let db: RelayEnvironment['db'];
  beforeAll(() => {
    ({ store, bus, db } = env);
  });

  it('loses nothing and keeps per-task order when the relay process is killed mid-stream', async () => {
    const streamIds = Array.from({ length: 20 }, (_, i) => `kill-${i}-${randomUUID()}`);
    const ids = await appendConcurrently(store, streamIds, 100);
    // node itself with tsx's loader (not the tsx CLI, which runs the script in a grandchild
    // that a SIGKILL to the CLI would leave running).
    const proc = spawn(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, DATABASE_URL: db.url, KAFKA_BROKERS: kafkaBrokers().join(','), TOPIC: topic, BATCH: String(BATCH), PAUSE_MS: '30' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let published = 0;
    let output = '';
    let partial = '';
    // Parse whole lines only: a pipe chunk may end in the middle of "published 1234".
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const m = /^published (\d+)$/.exec(line);
        if (m) published = Number(m[1]);
      }
      output = (output + chunk).slice(-4000);
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-4000)));
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    try {
      await waitFor(() => published >= 600 || proc.exitCode !== null, 'the relay process to publish 600 events', 90_000).catch((err: Error) => {
        throw new Error(`${err.message}; relay process output:\n${output}`);
      });
    } finally {
      proc.kill('SIGKILL');
      await exited;
    }
    expect(published, `relay process output:\n${output}`).toBeGreaterThanOrEqual(600);
    expect(published).toBeLessThan(ids.length);

    const resumed = new OutboxRelay({ store, bus, batchSize: 200 });
    await resumed.flush(60_000);
    const messages = await readTopic(kafkaBrokers(), topic);
    const result = checkTopic(messages, ids, new Map(streamIds.map((s) => [s, 100])));
    expect(result.missing).toEqual([]);
    expect(result.splitStreams).toEqual([]);
    expect(result.badStreams).toEqual([]);
    expect(result.distinct).toBe(ids.length);
    // The relay is pipelined (outbox-relay.ts, pass): batch n is published while the cursor
    // after batch n-1 is saved, so a kill can leave two published batches unsaved.
    expect(result.duplicates).toBeLessThanOrEqual(2 * BATCH);
    console.log(`relay SIGKILL after ${published} events: resumed relay published ${resumed.stats.published}, ${result.duplicates} duplicates on the topic`);
  });
});
