import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { MIGRATIONS_DIR, migrate } from '../../../supernode/store/migrator.ts';
import { openPostgresEventStore } from '../../../supernode/store/open-event-store.ts';
import { PgSqlClient } from '../../../supernode/store/pg-sql-client.ts';
import { SqlEventStore } from '../../../supernode/store/sql-event-store.ts';
import { databaseUrl } from '../../shared/env.ts';
import { useFreshSchemas } from '../../shared/fresh-schemas.ts';
import { describeEventStoreConformance, describeSqlEventStoreSpecifics, sqlSubject, drain, feedEnd, newEvents, stream } from '../../shared/event-store-conformance.ts';

// Every test file gets schemas of its own in the shared database, dropped at the end.
const freshSchema = useFreshSchemas('store_test');

describeEventStoreConformance('postgres', () => sqlSubject(openPostgresEventStore(databaseUrl(), { schema: freshSchema() })));

describeSqlEventStoreSpecifics('postgres', async (metrics) => {
  const schema = freshSchema();
  const client = new PgSqlClient(databaseUrl(), { schema });
  await migrate(client, { schema });
  return { client, store: new SqlEventStore(client, { metrics }) };
});

describe('PostgreSQL event store', () => {
  const schema = freshSchema();
  let store: SqlEventStore;
  let raw: pg.Client;
  beforeAll(async () => {
    store = await openPostgresEventStore(databaseUrl(), { schema });
    raw = new pg.Client({ connectionString: databaseUrl(), options: `-c search_path=${schema}` });
    await raw.connect();
  });
  afterAll(async () => {
    await raw?.end();
    await store?.close();
  });

  it('never passes an event whose transaction is still open, and delivers it once it commits', async () => {
    const tail = await feedEnd(store);
    const held = stream('held');
    // A writer that has inserted (and so taken the lower position) but not committed yet.
    await raw.query('BEGIN');
    const [heldRow] = (await raw.query(
      `INSERT INTO events (stream_id, version, event_id, type, schema_version, data, epoch)
       VALUES ($1, 1, $2::uuid, $3, $4, $5::jsonb, 1) RETURNING position`,
      [held, randomUUID(), newEvents(1)[0]!.type, 1, JSON.stringify(newEvents(1)[0]!.data)],
    )).rows as { position: string }[];
    let heldOpen = true;
    try {
      // A second writer commits first, with a higher position.
      const later = await store.append(stream('later'), 0, newEvents(1), { epoch: 1 });
      expect(later.events[0]!.position).toBeGreaterThan(Number(heldRow!.position));
      // A position-only cursor would now hand out `later` and move past the held event for good.
      const naive = await raw.query('SELECT count(*)::int AS n FROM events WHERE position > $1', [tail.position]);
      expect(naive.rows[0].n).toBeGreaterThanOrEqual(1);
      // The gap-free feed holds back everything behind the open transaction...
      await new Promise((r) => setTimeout(r, 200));
      expect((await store.readAll(tail, 100)).events).toEqual([]);
      await raw.query('COMMIT');
      heldOpen = false;
      // ...and then delivers both, the held one first (its transaction is the older).
      const { events } = await drain(store, tail, 2);
      expect(events.map((e) => e.streamId)).toEqual([held, later.events[0]!.streamId]);
      expect(events[0]!.position).toBe(Number(heldRow!.position));
    } finally {
      if (heldOpen) await raw.query('ROLLBACK');
    }
  });

  it('lets replicas that start together migrate one schema without racing', async () => {
    const shared = freshSchema();
    const clients = Array.from({ length: 4 }, () => new PgSqlClient(databaseUrl(), { schema: shared }));
    try {
      const applied = await Promise.all(clients.map((c) => migrate(c, { schema: shared })));
      const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
      expect(applied.flat().sort()).toEqual(files);
      const rows = await clients[0]!.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0]!.n).toBe(files.length);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
