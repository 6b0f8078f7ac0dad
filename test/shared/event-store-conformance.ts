import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDamselflyError } from '../../core/errors.ts';
import { MalformedEvent, SCHEMA_VERSION, type NewEvent, type StoredEvent } from '../../core/events/index.ts';
import { START_CURSOR, type EventStore, type GlobalCursor } from '../../supernode/store/event-store.ts';
import { StaleEpoch, VersionConflict } from '../../supernode/store/errors.ts';
import type { SqlClient } from '../../supernode/store/sql-client.ts';
import type { SqlEventStore } from '../../supernode/store/sql-event-store.ts';
import type { LeaseStore } from '../../supernode/cluster/lease-store.ts';
import { SqlLeaseStore } from '../../supernode/cluster/sql-lease-store.ts';
import type { StoreMetrics } from '../../supernode/store/store-metrics.ts';

/**
 * The contract every EventStore adapter keeps (memory, PGlite and PostgreSQL run this suite).
 * Tests share one store per suite, so each uses fresh stream ids, and feed tests start from the
 * feed's current end. What only SQL can show (a transaction held open across another's commit,
 * a malformed row written behind the store's back) lives in the adapters' own test files.
 */
/**
 * `open` returns the store and a way to grant a shard's lease with a fresh (higher) epoch, as a
 * replica taking the shard over would (the SQL stores: SqlLeaseStore on the same database).
 */
export interface ConformanceSubject {
  store: EventStore;
  takeOverShard: (shard: number) => Promise<number>;
}

/** takeOverShard on any LeaseStore: the shard's last holder lets go, a new replica takes it with a fresh epoch. */
export function shardTakeovers(leases: LeaseStore): ConformanceSubject['takeOverShard'] {
  const holders = new Map<number, { replica: string; epoch: number }>();
  let replicas = 0;
  return async (shard) => {
    const last = holders.get(shard);
    if (last) await leases.release(shard, last.replica, last.epoch);
    const replica = `conformance-${++replicas}`;
    const grant = await leases.acquire(shard, replica, 60_000);
    if (!grant) throw new Error(`shard ${shard} could not be taken over`);
    holders.set(shard, { replica, epoch: grant.epoch });
    return grant.epoch;
  };
}

/** The subject for a SQL store: its leases live in the same database (as in a replica). */
export async function sqlSubject(store: Promise<SqlEventStore>): Promise<ConformanceSubject> {
  const opened = await store;
  return { store: opened, takeOverShard: shardTakeovers(new SqlLeaseStore(opened.client)) };
}

export function describeEventStoreConformance(name: string, open: () => Promise<ConformanceSubject>): void {
  describe(`EventStore conformance: ${name}`, () => {
    let store: EventStore;
    let takeOverShard: ConformanceSubject['takeOverShard'];
    beforeAll(async () => {
      ({ store, takeOverShard } = await open());
    });
    afterAll(async () => {
      await store?.close();
    });

    it('round-trips a stream: versions, positions, epoch, and reads from a version', async () => {
      const s = stream('rt');
      const events = newEvents(3);
      const result = await store.append(s, 0, events, { epoch: 7 });
      expect(result.version).toBe(3);
      expect(result.events.map((e) => e.version)).toEqual([1, 2, 3]);
      expect(result.events.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
      expect(result.events.every((e) => e.streamId === s && e.epoch === 7 && e.schemaVersion === SCHEMA_VERSION)).toBe(true);
      expectIncreasing(result.events.map((e) => e.position));
      const more = await store.append(s, 3, newEvents(2), { epoch: 7 });
      expect(more.version).toBe(5);
      expect(more.events[0]!.position).toBeGreaterThan(result.events[2]!.position);

      const read = await store.readStream(s);
      expect(read).toEqual([...result.events, ...more.events]);
      expect(read.slice(0, 3).map(({ type, data }) => ({ type, data }))).toEqual(events.map(({ type, data }) => ({ type, data })));
      expect((await store.readStream(s, { fromVersion: 2, limit: 2 })).map((e) => e.version)).toEqual([3, 4]);
      expect(await store.streamVersion(s)).toBe(5);
      expect(await store.streamVersion(stream('absent'))).toBe(0);
      expect(await store.readStream(stream('absent'))).toEqual([]);
    });

    it('lets exactly one of two writers with the same expected version win', async () => {
      const s = stream('race');
      await store.append(s, 0, newEvents(1), { epoch: 1 });
      const outcomes = await Promise.allSettled([store.append(s, 1, newEvents(2), { epoch: 1 }), store.append(s, 1, newEvents(1), { epoch: 1 })]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(VersionConflict);
      expect(lost.reason).toMatchObject({ code: 'DF_ERR_VERSION_CONFLICT', retryable: true, expected: 1 });
      const winner = (outcomes.find((o) => o.status === 'fulfilled') as PromiseFulfilledResult<{ version: number }>).value;
      expect(lost.reason.actual).toBe(winner.version);
      expect(await store.streamVersion(s)).toBe(winner.version);

      await expect(store.append(stream('ahead'), 4, newEvents(1), { epoch: 1 })).rejects.toMatchObject({ code: 'DF_ERR_VERSION_CONFLICT', expected: 4, actual: 0 });
    });

    it('fences an append by its shard lease: a former owner cannot write once the shard was granted to a later epoch', async () => {
      const shard = 1000 + Math.floor(Math.random() * 1_000_000);
      const first = await takeOverShard(shard);
      const s = stream('fenced');
      await store.append(s, 0, newEvents(1), { epoch: first, shard });
      const second = await takeOverShard(shard);
      expect(second).toBeGreaterThan(first);
      // The new owner has not written this stream yet; the old one is refused all the same.
      await expect(store.append(s, 1, newEvents(1), { epoch: first, shard })).rejects.toMatchObject({ code: 'DF_ERR_STALE_EPOCH', current: second });
      await expect(store.append(stream('fenced-new'), 0, newEvents(1), { epoch: first, shard })).rejects.toMatchObject({ code: 'DF_ERR_STALE_EPOCH' });
      await store.append(s, 1, newEvents(1), { epoch: second, shard });
      // Appends without a shard (single-stream tools) are fenced by the stream's epoch only.
      expect((await store.readStream(s)).map((e) => e.epoch)).toEqual([first, second]);
    });

    it('rejects a stale epoch and accepts a higher one', async () => {
      const s = stream('epoch');
      await store.append(s, 0, newEvents(1), { epoch: 2 });
      const stale = store.append(s, 1, newEvents(1), { epoch: 1 });
      await expect(stale).rejects.toBeInstanceOf(StaleEpoch);
      await expect(stale).rejects.toMatchObject({ code: 'DF_ERR_STALE_EPOCH', retryable: false, epoch: 1, current: 2 });
      await store.append(s, 1, newEvents(1), { epoch: 2 });
      await store.append(s, 2, newEvents(1), { epoch: 5 });
      // The stale writer is rejected even with the right version: ownership moved on.
      await expect(store.append(s, 3, newEvents(1), { epoch: 2 })).rejects.toMatchObject({ code: 'DF_ERR_STALE_EPOCH', current: 5 });
      expect((await store.readStream(s)).map((e) => e.epoch)).toEqual([2, 2, 5]);
    });

    it('is atomic: an append that fails part-way leaves nothing behind', async () => {
      const tail = await feedEnd(store);
      const s = stream('atomic');
      const taken = newEvents(1);
      await store.append(stream('other'), 0, taken, { epoch: 1 });
      const fresh = newEvents(2);
      // The third event's id is already stored: the first two must not survive the failure.
      await expect(store.append(s, 0, [...fresh, taken[0]!], { epoch: 1 })).rejects.toMatchObject({ code: 'DF_ERR_DUPLICATE_EVENT' });
      expect(await store.streamVersion(s)).toBe(0);
      expect(await store.readStream(s)).toEqual([]);
      expect((await drain(store, tail, 1)).events.map((e) => e.eventId)).toEqual([taken[0]!.eventId]);
      // Their ids were not consumed either.
      expect((await store.append(s, 0, fresh, { epoch: 1 })).version).toBe(2);
    });

    it('rejects events that would not read back, before storing anything', async () => {
      const s = stream('invalid');
      const bad = { ...newEvents(1)[0]!, eventId: 'not-a-uuid' };
      await expect(store.append(s, 0, [bad], { epoch: 1 })).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
      const wrong = { ...newEvents(1)[0]!, type: 'NoSuchEvent' } as unknown as NewEvent;
      await expect(store.append(s, 0, [wrong], { epoch: 1 })).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
      expect(await store.streamVersion(s)).toBe(0);
    });

    it('treats an empty append as a version and epoch check', async () => {
      const s = stream('empty');
      expect(await store.append(s, 0, [], { epoch: 1 })).toEqual({ version: 0, events: [] });
      await store.append(s, 0, newEvents(2), { epoch: 3 });
      expect(await store.append(s, 2, [], { epoch: 3 })).toEqual({ version: 2, events: [] });
      await expect(store.append(s, 1, [], { epoch: 3 })).rejects.toBeInstanceOf(VersionConflict);
      await expect(store.append(s, 2, [], { epoch: 2 })).rejects.toBeInstanceOf(StaleEpoch);
    });

    it('serves the global feed in commit order and resumes from a cursor', async () => {
      const tail = await feedEnd(store);
      const [a, b] = [stream('feed-a'), stream('feed-b')];
      const appended: StoredEvent[] = [];
      appended.push(...(await store.append(a, 0, newEvents(2), { epoch: 1 })).events);
      appended.push(...(await store.append(b, 0, newEvents(3), { epoch: 1 })).events);
      appended.push(...(await store.append(a, 2, newEvents(1), { epoch: 1 })).events);

      const all = await drain(store, tail, appended.length);
      expect(all.events).toEqual(appended);
      // Paging two at a time gives the same sequence; each page resumes where the last ended.
      let cursor = tail;
      const paged: StoredEvent[] = [];
      for (let page = 0; page < 3; page++) {
        const r = await store.readAll(cursor, 2);
        expect(r.events).toHaveLength(2);
        paged.push(...r.events);
        cursor = r.cursor;
      }
      expect(paged).toEqual(appended);
      expect(await store.readAll(cursor, 10)).toEqual({ events: [], cursor });

      const later = (await store.append(b, 3, newEvents(1), { epoch: 1 })).events;
      expect((await drain(store, cursor, 1)).events).toEqual(later);
    });

    it('keeps only the newest snapshot', async () => {
      const s = stream('snap');
      expect(await store.loadSnapshot(s)).toBeUndefined();
      const state = { pieces: [1, 2, 3], peers: { p1: { up: true, note: 'quote " and \\ backslash' } }, n: null };
      await store.saveSnapshot({ streamId: s, version: 5, state });
      await store.saveSnapshot({ streamId: s, version: 3, state: { old: true } });
      expect(await store.loadSnapshot(s)).toEqual({ streamId: s, version: 5, state });
      await store.saveSnapshot({ streamId: s, version: 8, state: { newer: true } });
      expect(await store.loadSnapshot(s)).toEqual({ streamId: s, version: 8, state: { newer: true } });
    });

    it('stores named cursors', async () => {
      const name = `relay-${randomUUID()}`;
      expect(await store.loadCursor(name)).toEqual(START_CURSOR);
      const first = { txId: '4000000000', position: 17 };
      await store.saveCursor(name, first);
      expect(await store.loadCursor(name)).toEqual(first);
      // txIds are 64-bit (xid8): beyond 2^32 and compared as numbers, not strings.
      const next = { txId: '9007199254740993', position: 18 };
      await store.saveCursor(name, next);
      expect(await store.loadCursor(name)).toEqual(next);
    });

    it('gives 20 writers racing on one stream versions 1..500 with no gap and no duplicate', async () => {
      const s = stream('many');
      const writers = 20;
      const perWriter = 25;
      const written = new Set<string>();
      await Promise.all(
        Array.from({ length: writers }, async () => {
          for (let i = 0; i < perWriter; i++) {
            const [event] = newEvents(1);
            for (;;) {
              const version = await store.streamVersion(s);
              try {
                await store.append(s, version, [event!], { epoch: 1 });
                written.add(event!.eventId);
                break;
              } catch (err) {
                if (!isDamselflyError(err, 'DF_ERR_VERSION_CONFLICT')) throw err;
              }
            }
          }
        }),
      );
      const read = await store.readStream(s);
      expect(read.map((e) => e.version)).toEqual(range(1, writers * perWriter));
      expect(new Set(read.map((e) => e.eventId))).toEqual(written);
      expect(written.size).toBe(writers * perWriter);
    }, 90_000); // every round is 20 appends of which 19 conflict: ~10 s on PGlite, on a busy machine more

    it('commits 200 concurrent appends to 200 streams; the one conflicting append fails alone', async () => {
      const tail = await feedEnd(store);
      const streams = Array.from({ length: 200 }, () => stream('group'));
      const odd = 137;
      const outcomes = await Promise.allSettled(streams.map((s, i) => store.append(s, i === odd ? 1 : 0, newEvents(1), { epoch: 1 })));
      outcomes.forEach((o, i) => expect(o.status, `append ${i}`).toBe(i === odd ? 'rejected' : 'fulfilled'));
      expect((outcomes[odd] as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflict);
      for (const [i, s] of streams.entries()) expect(await store.streamVersion(s)).toBe(i === odd ? 0 : 1);
      const feed = await drain(store, tail, 199);
      expect(new Set(feed.events.map((e) => e.streamId))).toEqual(new Set(streams.filter((_, i) => i !== odd)));
    });
  });
}

/**
 * What the SQL adapters (PGlite, PostgreSQL) add to the contract, shown through their raw
 * SqlClient: a malformed row is reported with its position and id, never skipped, and
 * concurrent appends are group-committed (metrics show several appends per transaction).
 */
export function describeSqlEventStoreSpecifics(
  name: string,
  open: (metrics: StoreMetrics) => Promise<{ client: SqlClient; store: EventStore }>,
): void {
  describe(`SQL event store: ${name}`, () => {
    let client: SqlClient;
    let store: EventStore;
    const commits: { appends: number; failed: number; events: number; savepoints: boolean }[] = [];
    const appends: { ok: boolean; events: number }[] = [];
    beforeAll(async () => {
      ({ client, store } = await open({ onCommit: (c) => commits.push(c), onAppend: (a) => appends.push(a) }));
    });
    afterAll(async () => {
      await store?.close();
    });

    it('reports a malformed stored row with its position and id instead of skipping it', async () => {
      const tail = await feedEnd(store);
      const s = stream('bad');
      const good = await store.append(s, 0, newEvents(1), { epoch: 1 });
      const badId = randomUUID();
      const [row] = await client.query<{ position: string | number }>(
        `INSERT INTO events (stream_id, version, event_id, type, schema_version, data, epoch)
         VALUES ($1, 2, $2::uuid, 'PeerJoined', 1, '{"peerId": 42}'::jsonb, 1) RETURNING position`,
        [s, badId],
      );
      try {
        const where = { eventId: badId, position: Number(row!.position) };
        await expect(store.readStream(s)).rejects.toSatisfy((e) => e instanceof MalformedEvent && e.code === 'DF_ERR_MALFORMED_EVENT');
        await expect(store.readStream(s)).rejects.toMatchObject(where);
        // The feed stops at the bad row (after handing out the good one before it).
        const first = await drain(store, tail, 1);
        expect(first.events).toEqual(good.events);
        await expect(store.readAll(first.cursor, 10)).rejects.toMatchObject(where);
      } finally {
        // The store is shared by the suite: later feed reads must not trip on this row.
        await client.query('DELETE FROM events WHERE event_id = $1::uuid', [badId]);
      }
    });

    it('orders the feed by transaction id as a number: a reader never passes an older transaction', async () => {
      // Two committed transactions whose ids straddle a power of ten (9 and 10): ordered as
      // text, "10" < "9", a page of one would hand out 10 first and the cursor would move past 9
      // for good. Explicit tx ids (far below any running transaction) stand in for the real
      // counter crossing 99999 → 100000 with a backlog, which the test database had done.
      const [a, b] = [stream('tx9'), stream('tx10')];
      const { type, data } = newEvents(1)[0]!;
      const ids = [randomUUID(), randomUUID()];
      for (const [txId, s, id] of [['10', b, ids[1]], ['9', a, ids[0]]] as const) {
        await client.query(
          `INSERT INTO events (tx_id, stream_id, version, event_id, type, schema_version, data, epoch)
           VALUES ($1::xid8, $2, 1, $3::uuid, $4, 1, $5::jsonb, 1)`,
          [txId, s, id, type, JSON.stringify(data)],
        );
      }
      try {
        const first = await store.readAll({ txId: '8', position: 0 }, 1);
        expect(first.events.map((e) => e.streamId)).toEqual([a]);
        const second = await store.readAll(first.cursor, 1);
        expect(second.events.map((e) => e.streamId)).toEqual([b]);
      } finally {
        // The store is shared by the suite: later feed reads must not meet these rows.
        await client.query('DELETE FROM events WHERE event_id = ANY($1::uuid[])', [ids]);
      }
    });

    it('group-commits concurrent appends and reports batch sizes and append outcomes', async () => {
      commits.length = 0;
      appends.length = 0;
      const streams = Array.from({ length: 64 }, () => stream('gc'));
      const results = await Promise.all(streams.map((s) => store.append(s, 0, newEvents(2), { epoch: 1 })));
      expect(results.every((r) => r.version === 2)).toBe(true);
      expect(commits.reduce((n, c) => n + c.appends, 0)).toBe(64);
      expect(commits.reduce((n, c) => n + c.events, 0)).toBe(128);
      expect(commits.length).toBeLessThan(64);
      expect(Math.max(...commits.map((c) => c.appends))).toBeGreaterThan(1);
      expect(appends).toHaveLength(64);
      expect(appends.every((a) => a.ok && a.events === 2)).toBe(true);

      commits.length = 0;
      const outcomes = await Promise.allSettled(streams.map((s, i) => store.append(s, i === 5 ? 1 : 2, newEvents(1), { epoch: 1 })));
      expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1);
      expect(commits.reduce((n, c) => n + c.failed, 0)).toBe(1);
      expect(commits.some((c) => c.savepoints)).toBe(false);
    });

    it('fails an append that hits an SQL error alone, re-running its batch with savepoints', async () => {
      const taken = (await store.append(stream('taken'), 0, newEvents(1), { epoch: 1 })).events[0]!;
      commits.length = 0;
      const streams = Array.from({ length: 30 }, () => stream('sp'));
      const bad = 17;
      const outcomes = await Promise.allSettled(
        streams.map((s, i) => store.append(s, 0, i === bad ? [...newEvents(1), { ...newEvents(1)[0]!, eventId: taken.eventId }] : newEvents(2), { epoch: 1 })),
      );
      outcomes.forEach((o, i) => expect(o.status, `append ${i}`).toBe(i === bad ? 'rejected' : 'fulfilled'));
      expect((outcomes[bad] as PromiseRejectedResult).reason).toMatchObject({ code: 'DF_ERR_DUPLICATE_EVENT', eventId: taken.eventId });
      for (const [i, s] of streams.entries()) expect(await store.streamVersion(s)).toBe(i === bad ? 0 : 2);
      expect(await store.readStream(streams[bad]!)).toEqual([]);
      // Only a batch of several appends needs the savepoint re-run (a lone one fails its own transaction).
      const withBad = commits.find((c) => c.failed === 1)!;
      expect(withBad.savepoints).toBe(withBad.appends > 1);
      expect(commits.some((c) => c.appends > 1 && c.savepoints)).toBe(true);
    });
  });
}

/** A fresh stream id (tests share the store). */
export function stream(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** `n` valid events with fresh ids. */
export function newEvents(n: number): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'PeerJoined',
    data: { peerId: `peer-${i}-${randomUUID().slice(0, 8)}`, hostId: `host-${i}`, address: `10.0.0.${i % 250}:65002`, at: 1_700_000_000_000 + i },
    eventId: randomUUID(),
    schemaVersion: SCHEMA_VERSION,
  }));
}

/**
 * The cursor at the current end of the feed. On PostgreSQL the feed may lag what is committed
 * (it stops before the oldest transaction running anywhere in the cluster), so this appends a
 * marker and reads up to it: every transaction committed before the marker's began has a lower
 * tx id, so all of them lie before the returned cursor, and nothing but later appends after it.
 */
export async function feedEnd(store: EventStore): Promise<GlobalCursor> {
  const [marker] = (await store.append(stream('feed-end'), 0, newEvents(1), { epoch: 1 })).events;
  const deadline = Date.now() + 60_000;
  let cursor = START_CURSOR;
  for (;;) {
    const page = await store.readAll(cursor, 1000);
    const at = page.events.findIndex((e) => e.eventId === marker!.eventId);
    if (at >= 0) return (await store.readAll(cursor, at + 1)).cursor;
    if (page.events.length === 0) {
      if (Date.now() > deadline) throw new Error('the feed did not reach a committed marker within 60 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    cursor = page.cursor;
  }
}

/**
 * Reads the feed from `cursor` until `count` events arrived (other transactions on a shared
 * server may hold the feed back for a moment), then checks nothing beyond them is there yet.
 */
export async function drain(store: EventStore, cursor: GlobalCursor, count: number, timeoutMs = 60_000): Promise<{ events: StoredEvent[]; cursor: GlobalCursor }> {
  const events: StoredEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (events.length < count) {
    const page = await store.readAll(cursor, count - events.length);
    events.push(...page.events);
    cursor = page.cursor;
    if (page.events.length === 0) {
      if (Date.now() > deadline) throw new Error(`feed gave ${events.length} of ${count} events within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return { events, cursor };
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function expectIncreasing(values: number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]!);
}
