import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openPostgresEventStore } from '../../../supernode/store/index.ts';
import { KafkaEventBus } from '../../../supernode/bus/index.ts';
import { OutboxRelay } from '../../../supernode/relay/index.ts';
import { TaskRuntime } from '../../../supernode/runtime/task-runtime.ts';
import { DamselflyError } from '../../../core/errors.ts';
import { replay, stateHash, stateOf } from '../../../core/task/index.ts';
import { databaseUrl, kafkaBrokers } from '../../shared/env.ts';
import { useFreshSchemas } from '../../shared/fresh-schemas.ts';
import { POLICY, TASK_ID, createCommand } from '../../unit/core/task/fixtures.ts';
import { commandFor, scenarioArb } from '../../unit/core/task/histories.ts';

/**
 * Replay equivalence end to end: random valid command sequences run through the live task
 * runtime on real PostgreSQL, relayed to real Kafka; the live actor's state hash must equal the
 * hash replayed from Postgres and the hash replayed from Kafka.
 */
describe('live = replay from Postgres = replay from Kafka (property)', () => {
  const freshSchema = useFreshSchemas('prop');

  it('holds for random histories', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const schema = freshSchema();
        const topic = `prop-${schema}`;
        const store = await openPostgresEventStore(databaseUrl(), { schema });
        const bus = await KafkaEventBus.open({ brokers: kafkaBrokers(), topic, partitions: 2 });
        const relay = new OutboxRelay({ store, bus, pollMs: 20 }).start();
        const runtime = new TaskRuntime({ store, policy: POLICY, snapshotEvery: 7, onCommitted: () => relay.wake() });
        try {
          let at = 1;
          await runtime.execute(TASK_ID, createCommand(at));
          for (const step of scenario.steps) {
            at += step.dt;
            const state = stateOf(await runtime.snapshot(TASK_ID));
            await runtime.execute(TASK_ID, commandFor(step, state, at, scenario)).catch((e: unknown) => {
              if (!(e instanceof DamselflyError)) throw e; // refusals are expected; anything else is a bug
            });
          }
          const live = stateHash(await runtime.snapshot(TASK_ID));
          runtime.passivateIdle(-1);
          const rehydrated = stateHash(await runtime.snapshot(TASK_ID)); // stored snapshot + tail
          const fromPostgres = await store.readStream(TASK_ID);
          // The relay publishes asynchronously (and only below the oldest running transaction's
          // xid, see migrations/): poll until Kafka holds everything committed.
          let fromKafka = await bus.readStream(TASK_ID);
          for (let i = 0; i < 100 && fromKafka.length < fromPostgres.length; i++) {
            await relay.flush(30_000);
            fromKafka = await bus.readStream(TASK_ID);
          }
          expect(fromKafka.map((e) => e.eventId)).toEqual(fromPostgres.map((e) => e.eventId));
          expect(rehydrated).toBe(live);
          expect(stateHash(replay(fromPostgres))).toBe(live);
          expect(stateHash(replay(fromKafka))).toBe(live);
        } finally {
          await relay.stop();
          await bus.close();
          await store.close();
        }
      }),
      { numRuns: 8, endOnFailure: true },
    );
  });
});
