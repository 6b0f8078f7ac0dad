import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { EventStore } from './supernode/store/event-store.ts';
import { openPgliteEventStore, openPostgresEventStore } from './supernode/store/index.ts';
import { newEvents } from './test/shared/event-store-conformance.ts';

const batches: number[] = [];
const metrics = { onCommit: (c: { appends: number }) => batches.push(c.appends) };

async function run(label: string, store: EventStore, scale: number) {
  const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000)} events/s`;
  // one event per transaction
  let n = 1000 * scale, t = performance.now();
  for (let v = 0; v < n; v++) await store.append(`seq-${label}`, v, newEvents(1), { epoch: 1 });
  console.log(label, 'sequential 1/tx:', rate(n, performance.now() - t));
  // 100 per append
  n = 200 * scale; const pre = Array.from({ length: n }, () => newEvents(100));
  t = performance.now();
  for (let v = 0; v < n; v++) await store.append(`batch-${label}`, v * 100, pre[v]!, { epoch: 1 });
  console.log(label, 'sequential 100/append:', rate(n * 100, performance.now() - t));
  // group commit: 64 concurrent writers, single-event appends
  const writers = 64, per = 30 * scale;
  const evs = Array.from({ length: writers }, () => Array.from({ length: per }, () => newEvents(1)));
  batches.length = 0;
  t = performance.now();
  await Promise.all(evs.map(async (mine, w) => { for (let v = 0; v < per; v++) await store.append(`gc-${label}-${w}`, v, mine[v]!, { epoch: 1 }); }));
  const ms = performance.now() - t;
  console.log(label, `group commit 64 writers x 1/append:`, rate(writers * per, ms), `(${batches.length} tx, mean batch ${(batches.reduce((a, b) => a + b, 0) / batches.length).toFixed(1)})`);
  // replay read
  t = performance.now();
  let cursor = { txId: '0', position: 0 }, total = 0;
  for (;;) { const p = await store.readAll(cursor, 5000); if (!p.events.length) break; total += p.events.length; cursor = p.cursor; }
  console.log(label, 'readAll (validated):', rate(total, performance.now() - t));
}

const url = process.env.DAMSELFLY_DATABASE_URL!;
const schema = `bench_store_${Date.now()}`;
const pgStore = await openPostgresEventStore(url, { schema, metrics });
await run('postgres', pgStore, 3);
await pgStore.close();
const admin = new pg.Client({ connectionString: url }); await admin.connect(); await admin.query(`DROP SCHEMA ${schema} CASCADE`); await admin.end();

const dir = await mkdtemp(join(tmpdir(), 'store-bench-'));
const lite = await openPgliteEventStore(join(dir, 'pglite'), { metrics });
await run('pglite(disk)', lite, 1);
await lite.close();
await rm(dir, { recursive: true, force: true });
