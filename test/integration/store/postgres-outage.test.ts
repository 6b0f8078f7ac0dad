import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isDamselflyError } from '../../../core/errors.ts';
import { VersionConflict } from '../../../supernode/store/errors.ts';
import { openPostgresEventStore } from '../../../supernode/store/open-event-store.ts';
import { PgSqlClient } from '../../../supernode/store/pg-sql-client.ts';
import type { SqlEventStore } from '../../../supernode/store/sql-event-store.ts';
import { START_CURSOR } from '../../../supernode/store/event-store.ts';
import { databaseUrl } from '../../shared/env.ts';
import { newEvents, stream } from '../../shared/event-store-conformance.ts';
import { useFreshSchemas } from '../../shared/fresh-schemas.ts';
import { startTcpProxy, viaProxy, type TcpProxy } from '../../../bench/harness/tcp-proxy.ts';

const freshSchema = useFreshSchemas('outage_test');

/** What every store call must fail with while the database is away. */
async function expectUnavailable(call: Promise<unknown>): Promise<void> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isDamselflyError(err, 'DF_ERR_UNAVAILABLE'), `expected DF_ERR_UNAVAILABLE, got ${String(err)}`).toBe(true);
  expect(err).toMatchObject({ status: 503, retryable: true });
  expect((err as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
  expect(String((err as Error).message)).not.toMatch(/\n/);
}

/**
 * PostgreSQL unreachable, as the store sees it: a TCP proxy between the store and the shared
 * database is cut (connections destroyed, new ones refused) and restored, without touching the
 * server other tests use.
 */
describe('PostgreSQL event store through an outage', () => {
  const schema = freshSchema();
  let proxy: TcpProxy;
  let store: SqlEventStore;
  let admin: pg.Client;
  beforeAll(async () => {
    const target = new URL(databaseUrl());
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    store = await openPostgresEventStore(viaProxy(databaseUrl(), proxy), { schema, connectTimeoutMs: 2_000 });
    admin = new pg.Client({ connectionString: databaseUrl(), options: `-c search_path=${schema}` });
    await admin.connect();
  });
  afterEach(async () => {
    await proxy.restore();
  });
  afterAll(async () => {
    await admin?.end();
    await store?.close();
    await proxy?.close();
  });

  it('fails every call with DF_ERR_UNAVAILABLE while cut, and works again on the same store once restored', async () => {
    const streams = Array.from({ length: 5 }, () => stream('outage'));
    for (const s of streams) await store.append(s, 0, newEvents(2), { epoch: 1 });
    // Pooled connections are open now: the cut breaks them as a server restart would.
    const acceptedBefore = proxy.accepted;
    proxy.cut();

    // Concurrent appends share a group commit: all fail, none is left waiting.
    const during = streams.map((s) => store.append(s, 2, newEvents(1), { epoch: 1 }));
    for (const p of during) await expectUnavailable(p);
    await expectUnavailable(store.readStream(streams[0]!));
    await expectUnavailable(store.readAll(START_CURSOR, 10));
    await expectUnavailable(store.streamVersion(streams[0]!));
    await expectUnavailable(store.saveCursor('outage', START_CURSOR));
    await expectUnavailable(store.loadSnapshot(streams[0]!));
    // Still failing, not wedged, on a second round.
    await expectUnavailable(store.append(streams[0]!, 2, newEvents(1), { epoch: 1 }));

    await proxy.restore();
    for (const s of streams) expect((await store.append(s, 2, newEvents(1), { epoch: 1 })).version).toBe(3);
    expect((await store.readStream(streams[0]!)).map((e) => e.version)).toEqual([1, 2, 3]);
    expect(proxy.accepted).toBeGreaterThan(acceptedBefore);
    // Nothing of the failed appends was written.
    const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE stream_id = ANY($1)', [streams]);
    expect(Number(rows[0]!.n)).toBe(15);
  });

  it('reports an append whose connection broke after it was sent as unavailable, never as done; the retry meets VersionConflict', async () => {
    const s = stream('unknown-outcome');
    await store.append(s, 0, newEvents(1), { epoch: 1 });
    // Hold the stream's head row so the append statement waits on the server, sent but not
    // answered, while the connection is cut.
    await admin.query('BEGIN');
    await admin.query('SELECT 1 FROM streams WHERE stream_id = $1 FOR UPDATE', [s]);
    const adminPid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const second = newEvents(1);
    const append = store.append(s, 1, second, { epoch: 1 });
    append.catch(() => undefined);
    const blocked = await pollUntil(async () => {
      const { rows } = await admin.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [adminPid]);
      return rows.length > 0;
    });
    expect(blocked).toBe(true);
    proxy.cut();
    await expectUnavailable(append);
    // The server never noticed the client left: once the lock is released the statement runs
    // and commits. The store said "unavailable", not "done": the outcome was unknown to it.
    await admin.query('COMMIT');
    expect(await pollUntil(async () => (await admin.query('SELECT version FROM streams WHERE stream_id = $1', [s])).rows[0]?.version === 2)).toBe(true);

    await proxy.restore();
    // The writer's retry (same expected version) cannot append it a second time.
    await expect(store.append(s, 1, second, { epoch: 1 })).rejects.toBeInstanceOf(VersionConflict);
    const stored = await store.readStream(s);
    expect(stored.map((e) => e.version)).toEqual([1, 2]);
    expect(stored[1]!.eventId).toBe(second[0]!.eventId);
  });

  it('survives a connection lost inside a transaction (no unhandled error event) and rolls it back', async () => {
    const client = new PgSqlClient(viaProxy(databaseUrl(), proxy), { schema, poolSize: 2 });
    try {
      const s = stream('tx-lost');
      const tx = client.transaction(async (q) => {
        await q.query("INSERT INTO streams (stream_id, version, epoch) VALUES ($1, 1, 1)", [s]);
        // The checked-out connection dies between statements: pg emits 'error' on it.
        proxy.cut();
        await new Promise((r) => setTimeout(r, 100));
        await q.query('SELECT 1');
      });
      await expectUnavailable(tx);
      await proxy.restore();
      expect(await client.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      expect((await admin.query('SELECT 1 FROM streams WHERE stream_id = $1', [s])).rows).toHaveLength(0);
    } finally {
      await client.close();
    }
  });
});

/** Polls `check` until it holds (true) or 30 s have passed (false). */
async function pollUntil(check: () => Promise<boolean>): Promise<boolean> {
  for (const until = Date.now() + 30_000; Date.now() < until; ) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
