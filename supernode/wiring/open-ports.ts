import { join } from 'node:path';
import type { SupernodeConfig } from '../config.ts';
import type { Logger } from '../../edge/log/logger.ts';
import type { Metrics } from '../metrics.ts';
import type { EventStore } from '../store/event-store.ts';
import type { EventBus } from '../bus/event-bus.ts';
import { openPgliteEventStore, openPostgresEventStore } from '../store/index.ts';
import { KafkaEventBus, MemoryEventBus } from '../bus/index.ts';
import { SqlEventStore } from '../store/sql-event-store.ts';
import { PgSqlClient } from '../store/pg-sql-client.ts';
import { MemoryLeaseStore, SqlLeaseStore, type LeaseStore } from '../cluster/index.ts';
import { MemoryHostStore, SqlHostStore, type HostStore } from '../hosts/index.ts';

/**
 * The store: PostgreSQL when a database URL is configured, else the embedded default — PGlite
 * (real Postgres SQL in-process) on disk under the data dir. Same migrations either way.
 */
export async function openEventStore(config: Pick<SupernodeConfig, 'databaseUrl' | 'dataDir'>, metrics?: Metrics): Promise<EventStore> {
  const opts = metrics
    ? {
        metrics: {
          onCommit: (c: { appends: number; seconds: number }) => {
            metrics.storeCommitAppends.observe(c.appends);
            metrics.storeCommitSeconds.observe(c.seconds);
          },
        },
      }
    : {};
  if (config.databaseUrl) return openPostgresEventStore(config.databaseUrl, opts);
  return openPgliteEventStore(join(config.dataDir, 'pglite'), opts);
}

/**
 * The shard leases live in the store's own database (they fence its appends); memory beside a
 * memory store. On PostgreSQL they get two connections of their own: in the shared pool a
 * renewal waited behind appends and relay reads, and under 2,000 peers it arrived after the
 * lease's local validity ran out, so the replica answered NOT_OWNER (3,000 retried syncs in one
 * run) while it still held every shard.
 */
export function openLeaseStore(store: EventStore, databaseUrl: string | undefined): { leases: LeaseStore; close(): Promise<void> } {
  if (!(store instanceof SqlEventStore)) return { leases: new MemoryLeaseStore(), close: async () => undefined };
  // Without a database URL the store is PGlite in this process: there is no pool to wait in.
  if (!databaseUrl) return { leases: new SqlLeaseStore(store.client), close: async () => undefined };
  const own = new PgSqlClient(databaseUrl, { poolSize: 2 });
  return { leases: new SqlLeaseStore(own), close: () => own.close() };
}

/** The hosts daemons announce: in the store's database, so every replica lists the same hosts; memory beside a memory store. */
export function openHostStore(store: EventStore): HostStore {
  return store instanceof SqlEventStore ? new SqlHostStore(store.client) : new MemoryHostStore();
}

/** The bus: Kafka when brokers are configured, else the in-process bus. */
export async function openEventBus(config: Pick<SupernodeConfig, 'kafkaBrokers' | 'kafkaTopic'>, logger: Logger): Promise<EventBus> {
  if (config.kafkaBrokers.length > 0) {
    return KafkaEventBus.open({ brokers: [...config.kafkaBrokers], topic: config.kafkaTopic, logger: logger.child({ component: 'kafka' }) });
  }
  return new MemoryEventBus({ logger });
}
