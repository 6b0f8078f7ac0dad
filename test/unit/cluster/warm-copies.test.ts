import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StoredEvent, TaskEvent } from '../../../core/events/index.ts';
import { replay, stateHash, stateOf, storedTaskState } from '../../../core/task/index.ts';
import { MemoryEventStore } from '../../../supernode/store/memory-event-store.ts';
import { loadFromStore, WarmCopies } from '../../../supernode/cluster/warm-copies.ts';
import { createCommand, join, run, TASK_ID } from '../core/task/fixtures.ts';

/** A real history (created, probed, seeded, 300 peers joined), as the store would have stored it. */
function storedHistory(): StoredEvent[] {
  const commands = [
    createCommand(),
    { type: 'RecordProbe' as const, at: 2, contentLength: 4 * 262144, acceptRanges: true, etag: null, lastModified: null },
    ...Array.from({ length: 300 }, (_, i) => join(`p${i}`, 10 + i)),
  ];
  const { events } = run(commands);
  return events.map((e: TaskEvent, i: number) => ({ ...e, eventId: randomUUID(), schemaVersion: 2, streamId: TASK_ID, version: i + 1, position: i + 1, epoch: 1, recordedAt: i }) as StoredEvent);
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
});
