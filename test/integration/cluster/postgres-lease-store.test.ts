import { describe, expect, it } from 'vitest';
import { SqlLeaseStore } from '../../../supernode/cluster/sql-lease-store.ts';
import { migrate } from '../../../supernode/store/migrator.ts';
import { SqlEventStore } from '../../../supernode/store/sql-event-store.ts';
import { PgSqlClient } from '../../../supernode/store/pg-sql-client.ts';
import { databaseUrl } from '../../shared/env.ts';
import { useFreshSchemas } from '../../shared/fresh-schemas.ts';
import { newEvents, stream } from '../../shared/event-store-conformance.ts';
import { describeLeaseStoreConformance, renewOne } from '../../shared/lease-store-conformance.ts';

// Every test file gets schemas of its own in the shared database, dropped at the end.
const freshSchema = useFreshSchemas('cluster_test');

/** Three "replicas", each with a pool of its own: the racing tests run on real concurrent sessions. */
async function openReplicas(schema: string, count = 3): Promise<{ clients: PgSqlClient[]; stores: SqlLeaseStore[] }> {
  const clients = Array.from({ length: count }, () => new PgSqlClient(databaseUrl(), { schema, poolSize: 6 }));
  await migrate(clients[0]!, { schema });
  return { clients, stores: clients.map((c) => new SqlLeaseStore(c)) };
}

describeLeaseStoreConformance('postgres', async () => {
  const { clients, stores } = await openReplicas(freshSchema());
  return { handles: stores, close: async () => void (await Promise.all(clients.map((c) => c.close()))) };
});

describe('PostgreSQL lease store', () => {
  it('decides expiry by the database clock, not the caller\'s', async () => {
    const schema = freshSchema();
    const { clients, stores } = await openReplicas(schema, 1);
    try {
      const grant = (await stores[0]!.acquire(7, 'a', 60_000))!;
      // Expire the lease by the server's clock only; the caller's clock has not moved.
      await clients[0]!.query("UPDATE shard_leases SET expires_at = now() - interval '1 second' WHERE shard = 7");
      const taken = (await stores[0]!.acquire(7, 'b', 60_000))!;
      expect(taken.epoch).toBeGreaterThan(grant.epoch);
      const [row] = await clients[0]!.query<{ ahead: boolean }>(
        "SELECT expires_at > now() + interval '59 seconds' AS ahead FROM shard_leases WHERE shard = 7");
      expect(row!.ahead).toBe(true);
    } finally {
      await clients[0]!.close();
    }
  });

  it('fences appends with lease epochs: after a takeover the former owner cannot write the stream', async () => {
    const schema = freshSchema();
    const { clients, stores } = await openReplicas(schema, 2);
    // The event store takes over client 1 (its close() closes it); client 0 stays the old owner's.
    const [oldStore, newStore] = [new SqlEventStore(clients[0]!), new SqlEventStore(clients[1]!)];
    try {
      const task = stream('fenced');
      const old = (await stores[0]!.acquire(3, 'old', 200))!;
      await oldStore.append(task, 0, newEvents(2), { epoch: old.epoch });
      await new Promise((r) => setTimeout(r, 600));
      const heir = (await stores[1]!.acquire(3, 'heir', 60_000))!;
      // The new owner's first append (OwnershipAcquired, in the runtime) raises the stream's epoch...
      await newStore.append(task, 2, newEvents(1), { epoch: heir.epoch });
      // ...after which the paused former owner is refused, even at the right version.
      await expect(oldStore.append(task, 3, newEvents(1), { epoch: old.epoch })).rejects.toMatchObject({ code: 'DF_ERR_STALE_EPOCH' });
      expect(await renewOne(stores[0]!, 3, 'old', old.epoch, 60_000)).toBe(false);
      expect((await newStore.readStream(task)).map((e) => e.epoch)).toEqual([old.epoch, old.epoch, heir.epoch]);
    } finally {
      await Promise.all([oldStore.close(), newStore.close()]);
    }
  });
});
