import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../core/events/index.ts';
import { DamselflyError } from '../../../core/errors.ts';
import { stateOf } from '../../../core/task/index.ts';
import { DAMSELFLY_BIN } from '../../../bench/processes.ts';
import { freshDatabase } from '../../../bench/cluster/fresh-database.ts';
import { KafkaEventBus } from '../../../supernode/bus/kafka-event-bus.ts';
import { OutboxRelay } from '../../../supernode/relay/outbox-relay.ts';
import { TaskRuntime } from '../../../supernode/runtime/task-runtime.ts';
import { openPostgresEventStore } from '../../../supernode/store/index.ts';
import { databaseUrl, kafkaBrokers } from '../../shared/env.ts';
import { waitFor } from '../../shared/event-bus-conformance.ts';
import { POLICY, TASK_ID, createCommand } from '../../unit/core/task/fixtures.ts';
import { commandFor, scenarioArb } from '../../unit/core/task/histories.ts';

/**
 * Issue 12, finding 8: the relay dies between publishing a batch and saving its cursor, so the
 * topic holds a range of the task's stream twice (the second copy after what followed it).
 * `damselfly replay --from kafka` and `history --from kafka` must still tell what the store tells.
 */
describe('replay and history from Kafka after the relay re-published a range (real PostgreSQL + Kafka)', () => {
  it('give the state hash, timeline and provenance that the store gives', async () => {
    const db = await freshDatabase(databaseUrl(), 'republish');
    const topic = `republish-${randomUUID()}`;
    const store = await openPostgresEventStore(db.url);
    const bus = await KafkaEventBus.open({ brokers: kafkaBrokers(), topic, partitions: 2 });
    try {
      // A history long enough for several relay batches.
      const runtime = new TaskRuntime({ store, policy: POLICY, snapshotEvery: 1000 });
      const [scenario] = fc.sample(scenarioArb, { seed: 12, numRuns: 1 });
      let at = 1;
      await runtime.execute(TASK_ID, createCommand(at));
      for (const step of scenario!.steps) {
        at += step.dt;
        const state = stateOf(await runtime.snapshot(TASK_ID));
        await runtime.execute(TASK_ID, commandFor(step, state, at, scenario!)).catch((e: unknown) => {
          if (!(e instanceof DamselflyError)) throw e; // refusals are part of a random history
        });
      }
      const stored = await store.readStream(TASK_ID);
      expect(stored.length).toBeGreaterThan(12);

      // The first relay "dies" right after Kafka acked its third batch, before the cursor moved.
      let calls = 0;
      let dead = false;
      const dying = {
        async publish(events: StoredEvent[]) {
          if (dead) throw new Error('process is dead');
          await bus.publish(events);
          if (++calls === 3) {
            dead = true;
            throw new Error('killed between publish and saveCursor');
          }
        },
      };
      const first = new OutboxRelay({ store, bus: dying, batchSize: 4, pollMs: 10, maxBackoffMs: 50 }).start();
      await waitFor(() => dead, 'the first relay to die');
      await first.stop();
      const second = new OutboxRelay({ store, bus, batchSize: 4, pollMs: 10 }).start();
      await second.flush(60_000);
      await second.stop();
      const log = await bus.readStream(TASK_ID);
      expect(log.length, 'the topic holds the re-published range').toBeGreaterThan(stored.length);

      const cli = (command: string, from: string) => {
        const r = spawnSync(process.execPath, [DAMSELFLY_BIN, command, '--task', TASK_ID, '--from', from, '--json', '--kafka-topic', topic], {
          encoding: 'utf8', timeout: 120_000,
          env: { ...process.env, DAMSELFLY_DATABASE_URL: db.url, DAMSELFLY_KAFKA_BROKERS: kafkaBrokers().join(','), DAMSELFLY_LOG_LEVEL: 'warn' },
        });
        expect(r.status, r.stderr).toBe(0);
        return JSON.parse(r.stdout) as Record<string, unknown>;
      };
      const replayed = { postgres: cli('replay', 'postgres'), kafka: cli('replay', 'kafka') };
      expect(replayed.kafka.events).toBe(stored.length);
      expect(replayed.kafka.stateHash).toBe(replayed.postgres.stateHash);
      const history = { postgres: cli('history', 'postgres'), kafka: cli('history', 'kafka') };
      expect(history.kafka).toEqual(history.postgres);
    } finally {
      await bus.close();
      await store.close();
      await db.drop();
    }
  });
});
