import { randomUUID } from 'node:crypto';
import { SCHEMA_VERSION, type NewEvent, type TaskEvent } from '../../core/events/index.ts';
import { stateHash, type TaskState } from '../../core/task/index.ts';
import { openKafkaTarget } from '../events/kafka-target.ts';
import { openPostgresTarget } from '../events/postgres-target.ts';
import { measureRelay } from '../events/relay-figure.ts';
import { rebuildFromBus, rebuildFromStore } from '../events/replay-paths.ts';
import { ensureLocalServices } from '../local-services.ts';

export interface RelayOfHistory {
  events: number;
  /** JSON bytes of the events' data: what the relay reads from PostgreSQL and writes to Kafka. */
  bytes: number;
  relayEventsPerSecond: number;
  /** Whether the task rebuilt from PostgreSQL and from Kafka has the simulation's state hash. */
  replayFromPostgres: boolean;
  replayFromKafka: boolean;
}

/** Appends per store call: about what the supernode's batches hold at a few hundred syncs a second. */
const PER_APPEND = 20;

/**
 * A simulated task's history through the real persistence path: appended to PostgreSQL (a
 * schema of its own), relayed to Kafka (a topic of its own) by the outbox relay, timed as
 * `bench events` times the relay, then the task rebuilt from each and hashed against the state
 * the simulation reached. Starts the local services as the tests do.
 */
export async function relayHistory(taskId: string, history: { events: TaskEvent[]; state: TaskState }): Promise<RelayOfHistory> {
  const services = await ensureLocalServices();
  const runId = `sim${Date.now().toString(36)}`;
  const pg = await openPostgresTarget(services.databaseUrl, runId);
  try {
    const kafka = await openKafkaTarget(services.kafkaBrokers, runId);
    try {
      const events: NewEvent[] = history.events.map((e) => ({ ...e, eventId: randomUUID(), schemaVersion: SCHEMA_VERSION }) as NewEvent);
      for (let i = 0; i < events.length; i += PER_APPEND) await pg.store.append(taskId, i, events.slice(i, i + PER_APPEND), { epoch: 1 });
      const { throughput } = await measureRelay(pg.store, kafka.bus, `sim-${runId}`, events.length, { explainStall: () => pg.oldestTransaction() });
      const expected = stateHash(history.state);
      const fromStore = await rebuildFromStore(pg.store, taskId);
      const fromBus = await rebuildFromBus(kafka.bus, taskId);
      return {
        events: events.length,
        bytes: events.reduce((n, e) => n + JSON.stringify(e.data).length, 0),
        relayEventsPerSecond: throughput.perSecond,
        replayFromPostgres: stateHash(fromStore.snapshot) === expected,
        replayFromKafka: stateHash(fromBus.snapshot) === expected,
      };
    } finally {
      await kafka.drop();
    }
  } finally {
    await pg.drop();
  }
}
