import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { KafkaEventBus } from '../../../supernode/bus/kafka-event-bus.ts';
import { openPostgresEventStore } from '../../../supernode/store/index.ts';
import type { EventStore } from '../../../supernode/store/event-store.ts';
import { databaseUrl, kafkaBrokers } from '../../shared/env.ts';
import { freshDatabase } from '../../../bench/cluster/fresh-database.ts';

export interface RelayEnvironment {
  topic: string;
  db: Awaited<ReturnType<typeof freshDatabase>>;
  store: EventStore;
  bus: KafkaEventBus;
}

/**
 * A relay test's own world on the real services: a fresh database with the event store
 * migrated, and a fresh topic, both dropped after the file. Call at describe level; read the
 * fields inside tests (they are set in beforeAll).
 */
export function useRelayEnvironment(name: string): RelayEnvironment {
  const env = { topic: `damselfly.test.${name}.${randomUUID()}` } as RelayEnvironment;
  beforeAll(async () => {
    env.db = await freshDatabase(databaseUrl(), name.replaceAll('-', '_'));
    env.store = await openPostgresEventStore(env.db.url);
    env.bus = await KafkaEventBus.open({ brokers: kafkaBrokers(), topic: env.topic });
  });
  afterAll(async () => {
    await env.bus?.close();
    await env.store?.close();
    await env.db?.drop();
  });
  return env;
}
