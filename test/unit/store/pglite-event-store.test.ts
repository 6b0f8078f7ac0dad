import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../supernode/store/migrator.ts';
import { PgliteSqlClient } from '../../../supernode/store/pglite-sql-client.ts';
import { SqlEventStore } from '../../../supernode/store/sql-event-store.ts';
import { openPgliteEventStore } from '../../../supernode/store/open-event-store.ts';
import type { StoreMetrics } from '../../../supernode/store/store-metrics.ts';
import { describeEventStoreConformance, describeSqlEventStoreSpecifics, sqlSubject, drain, feedEnd, newEvents, stream } from '../../shared/event-store-conformance.ts';

// PGlite is PostgreSQL compiled to WASM, in-process: the same SQL and migrations as the server.
describeEventStoreConformance('pglite', () => sqlSubject(openPgliteEventStore('memory://')));

describeSqlEventStoreSpecifics('pglite', async (metrics: StoreMetrics) => {
  const client = await PgliteSqlClient.open('memory://');
  await migrate(client);
  return { client, store: new SqlEventStore(client, { metrics }) };
});

describe('PGlite event store', () => {
  let client: PgliteSqlClient;
  let store: SqlEventStore;
  beforeAll(async () => {
    client = await PgliteSqlClient.open('memory://');
    await migrate(client);
    store = new SqlEventStore(client);
  });
  afterAll(async () => {
    await store.close();
  });

  it('supports xid8 and pg_snapshot_xmin, so the feed query is the same as on PostgreSQL', async () => {
    const [row] = await client.query<{ xmin: string; xid: string }>(
      'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin, pg_current_xact_id()::text AS xid',
    );
    expect(BigInt(row!.xid)).toBeGreaterThanOrEqual(BigInt(row!.xmin));
    const tail = await feedEnd(store);
    const { events } = await store.append(stream('x'), 0, newEvents(2), { epoch: 1 });
    expect((await drain(store, tail, 2)).events).toEqual(events);
  });

  it('keeps its data on disk across a restart (the embedded mode), migrating only once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'damselfly-pglite-'));
    try {
      const first = await openPgliteEventStore(join(dir, 'pglite'));
      const s = stream('disk');
      const { events } = await first.append(s, 0, newEvents(3), { epoch: 4 });
      await first.saveSnapshot({ streamId: s, version: 3, state: { kept: true } });
      await first.close();
      const again = await openPgliteEventStore(join(dir, 'pglite'));
      try {
        expect(await again.readStream(s)).toEqual(events);
        expect(await again.loadSnapshot(s)).toEqual({ streamId: s, version: 3, state: { kept: true } });
        await expect(again.append(s, 3, newEvents(1), { epoch: 3 })).rejects.toMatchObject({ code: 'DF_ERR_STALE_EPOCH' });
      } finally {
        await again.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
