import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StoredEvent, TaskEvent } from '../../../core/events/index.ts';
import { replay, stateHash, stateOf, storedTaskState } from '../../../core/task/index.ts';
import { MemoryEventStore } from '../../../supernode/store/memory-event-store.ts';
import { loadFromStore, WarmCopies } from '../../../supernode/cluster/warm-copies.ts';
import type { TaskCommand } from '../../../core/task/index.ts';
import { createCommand, digestOf, join, run, TASK_ID } from '../core/task/fixtures.ts';

/** A real history (created, probed, seeded, 300 peers joined), as the store would have stored it. */
function storedHistory(): StoredEvent[] {
  return stored([
    createCommand(),
    { type: 'RecordProbe' as const, at: 2, contentLength: 4 * 262144, acceptRanges: true, etag: null, lastModified: null },
    ...Array.from({ length: 300 }, (_, i) => join(`p${i}`, 10 + i)),
  ]);
}

/** The events of `commands` as the store would have stored them in stream `streamId`. */
function stored(commands: TaskCommand[], streamId = TASK_ID): StoredEvent[] {
  const { events } = run(commands);
  return events.map((e: TaskEvent, i: number) => ({ ...e, eventId: randomUUID(), schemaVersion: 2, streamId, version: i + 1, position: i + 1, epoch: 1, recordedAt: i }) as StoredEvent);
}

/** A task seeded whole (4 pieces) that peer p0 joined, then `then`. */
function seededHistory(then: TaskCommand[]): StoredEvent[] {
  return stored([
    createCommand(),
    { type: 'RecordProbe', at: 2, contentLength: 4 * 262144, acceptRanges: true, etag: null, lastModified: null },
    { type: 'RecordSeededPieces', at: 3, pieces: [0, 1, 2, 3].map((piece) => ({ piece, size: 262144, digest: digestOf(piece) })) },
    { type: 'CompleteSeed', at: 4 },
    join('p0', 10),
    ...then,
  ]);
}

describe('WarmCopies', () => {
  it('loads a stream first seen mid-way from the store (snapshot + tail), once, then folds the rest', async () => {
    const events = storedHistory();
    const store = new MemoryEventStore();
    await store.append(TASK_ID, 0, events.slice(0, 250), { epoch: 1 });
    await store.saveSnapshot({ streamId: TASK_ID, version: 200, state: storedTaskState(stateOf(replay(events.slice(0, 200)))) });
    const loads: string[] = [];
    const load = loadFromStore(store);
    const warm = new WarmCopies(async (id) => (loads.push(id), load(id)));
    await warm.apply(events.slice(240, 260)); // the replica started while the stream was at 240
    await store.append(TASK_ID, 250, events.slice(250), { epoch: 1 });
    await warm.apply(events.slice(260));
    expect(loads).toEqual([TASK_ID]);
    const copy = warm.get(TASK_ID)!;
    expect(copy.version).toBe(events.length);
    expect(stateHash(copy.snapshot)).toBe(stateHash(replay(events)));
  });

  it('leaves a copy out when the store cannot load it, and loads it again with the next event', async () => {
    const events = storedHistory();
    let up = false;
    const store = new MemoryEventStore();
    await store.append(TASK_ID, 0, events, { epoch: 1 });
    const load = loadFromStore(store);
    let attempts = 0;
    const warm = new WarmCopies(async (id) => {
      attempts++;
      if (!up) throw new Error('database down');
      return load(id);
    });
    await warm.apply(events.slice(100, 110));
    expect(warm.get(TASK_ID)).toBeUndefined();
    expect(attempts).toBe(1); // once per batch, not once per event
    up = true;
    await warm.apply(events.slice(101));
    expect(stateHash(warm.get(TASK_ID)!.snapshot)).toBe(stateHash(replay(events)));
  });

  it('folds redelivered, batched events into the same state as a replay of the stream', async () => {
    const events = storedHistory();
    const warm = new WarmCopies();
    await warm.apply(events.slice(0, 100));
    await warm.apply(events.slice(50, 290)); // at-least-once: 50..99 again
    await warm.apply(events.slice(290));
    const copy = warm.get(TASK_ID)!;
    expect(copy.version).toBe(events.length);
    expect(stateHash(copy.snapshot)).toBe(stateHash(replay(events)));
    expect(warm.runningTasks(() => true)).toEqual([TASK_ID]);
    expect(warm.runningTasks(() => false)).toEqual([]);
  });

  it('hands out a snapshot of its own: folding more events later does not change it', async () => {
    const events = storedHistory();
    const warm = new WarmCopies();
    await warm.apply(events.slice(0, 100));
    const early = warm.get(TASK_ID)!;
    const hashAt100 = stateHash(replay(events.slice(0, 100)));
    expect(stateHash(early.snapshot)).toBe(hashAt100);
    await warm.apply(events.slice(100));
    expect(warm.get(TASK_ID)!.version).toBe(events.length);
    expect(stateHash(early.snapshot)).toBe(hashAt100);
    expect(early.snapshot.context.peers.size).toBeLessThan(warm.get(TASK_ID)!.snapshot.context.peers.size);
  });

  it('without a store, keeps no copy of a stream it joined mid-way, and drops one with a gap', async () => {
    const events = storedHistory();
    const late = new WarmCopies();
    await late.apply(events.slice(10));
    expect(late.get(TASK_ID)).toBeUndefined();

    const gap = new WarmCopies();
    await gap.apply(events.slice(0, 20));
    await gap.apply(events.slice(21));
    expect(gap.get(TASK_ID)).toBeUndefined();
  });

  it('keeps at most maxCopies, dropping the least recently updated', async () => {
    const warm = new WarmCopies(undefined, { maxCopies: 3 });
    const streams = ['a', 'b', 'c', 'd', 'e'].map((id) => storedHistory().map((e) => ({ ...e, streamId: id })));
    for (const events of streams) await warm.apply(events.slice(0, 10));
    expect(warm.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].filter((id) => warm.get(id))).toEqual(['c', 'd', 'e']);
    // An update makes a copy the newest: c stays, d (now the least recently updated) goes.
    await warm.apply(streams[2]!.slice(10, 20));
    await warm.apply(streams[0]!.slice(0, 10));
    expect(['a', 'b', 'c', 'd', 'e'].filter((id) => warm.get(id))).toEqual(['a', 'c', 'e']);
    expect(warm.get('c')!.version).toBe(20);
  });

  it('drops the copy of a seeded task once no peer is active, and loads it again when one joins', async () => {
    const events = seededHistory([{ type: 'Leave', at: 20, peerId: 'p0', outcome: 'succeeded' }, join('p1', 30)]);
    const store = new MemoryEventStore();
    await store.append(TASK_ID, 0, events, { epoch: 1 });
    const warm = new WarmCopies(loadFromStore(store));
    await warm.apply(events.slice(0, -2));
    expect(warm.runningTasks(() => true)).toEqual([TASK_ID]); // p0 is downloading
    await warm.apply(events.slice(-2, -1)); // p0 succeeded: nobody downloads any more
    expect(warm.runningTasks(() => true)).toEqual([]);
    expect(warm.size).toBe(0);
    expect(warm.get(TASK_ID)).toBeUndefined();
    await warm.apply(events.slice(-1)); // p1 joins: the copy comes back from the store
    expect(warm.runningTasks(() => true)).toEqual([TASK_ID]);
    expect(warm.get(TASK_ID)!.version).toBe(events.length);
    expect(stateHash(warm.get(TASK_ID)!.snapshot)).toBe(stateHash(replay(events)));
  });
});
