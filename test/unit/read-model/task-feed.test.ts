import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../core/events/index.ts';
import { MemoryEventBus } from '../../../supernode/bus/memory-event-bus.ts';
import { MemoryEventStore } from '../../../supernode/store/memory-event-store.ts';
import { followTaskFeed, TaskReadModel, type TaskFeed } from '../../../supernode/read-model/index.ts';
import { sampleEvents, waitFor } from '../../shared/event-bus-conformance.ts';

/** Appends `count` sample events to a stream of `store`; resolves to them as stored. */
async function appendTask(store: MemoryEventStore, streamId: string, count: number, from = 0): Promise<StoredEvent[]> {
  return (await store.append(streamId, from, sampleEvents(streamId, count, from + 1), { epoch: 1 })).events;
}

/** The summary a model fed every event of the stream exactly once shows. */
async function exact(events: StoredEvent[]) {
  const model = new TaskReadModel();
  await model.apply(events);
  return model.get(events[0]!.streamId);
}

describe('the task list feed', () => {
  let bus: MemoryEventBus;
  let feed: TaskFeed | undefined;
  afterEach(async () => {
    await feed?.stop();
    feed = undefined;
    await bus?.close();
  });

  it('lists tasks committed before the bus carried anything (a restart) and those the bus brings', async () => {
    const store = new MemoryEventStore();
    const before = await appendTask(store, 'old', 9);
    bus = new MemoryEventBus();
    const model = new TaskReadModel({ store });
    feed = followTaskFeed(model, { bus, store, groupId: 'g', pageSize: 4 });
    const fresh = await appendTask(store, 'new', 7);
    await bus.publish(fresh); // the relay publishes what is committed from now on
    await feed.caughtUp;
    await waitFor(() => model.get('new')?.version === 7, 'the bus events');
    expect(model.get('old')).toEqual(await exact(before));
    expect(model.get('new')).toEqual(await exact(fresh));
    // The history read covered `new` too: its bus events came twice and counted once.
    expect(model.dedupe.counts.applied).toBe(16);
  });

  it('reads a stream first seen mid-way back from the store (Kafka retention cut its head)', async () => {
    const store = new MemoryEventStore();
    const all = await appendTask(store, 'cut', 9);
    bus = new MemoryEventBus();
    const model = new TaskReadModel({ store });
    feed = followTaskFeed(model, { bus, groupId: 'g' });
    await bus.publish(all.slice(4));
    await waitFor(() => model.get('cut')?.version === 9, 'the tail');
    expect(model.get('cut')).toEqual(await exact(all));
    expect(model.counts.readFromStore).toBe(1);
  });

  it('keeps at most maxTasks, dropping the least recently updated; a dropped task that moves is read back whole', async () => {
    const store = new MemoryEventStore();
    const model = new TaskReadModel({ store, maxTasks: 2 });
    const a = await appendTask(store, 'a', 5);
    const b = await appendTask(store, 'b', 5);
    await model.apply([...a, ...b]);
    await model.apply(await appendTask(store, 'a', 1, 5)); // a is now the most recent
    const c = await appendTask(store, 'c', 3);
    await model.apply(c);
    expect(model.size).toBe(2);
    expect(model.get('b')).toBeUndefined();
    expect(model.dedupe.lastVersion('b')).toBe(0);
    expect(model.counts.dropped).toBe(1);
    // b moves again: the event alone would be a summary without a URL; the store has the rest.
    const b6 = await appendTask(store, 'b', 1, 5);
    await model.apply(b6);
    expect(model.get('b')).toEqual(await exact([...b, ...b6]));
    expect(model.get('a')).toBeUndefined();
    expect(model.page({ limit: 10 }).tasks.map((t) => t.taskId).sort()).toEqual(['b', 'c']);
  });

  it('never skips an event when the store fails a read-back: the bus delivers the batch again', async () => {
    const store = new MemoryEventStore();
    const all = await appendTask(store, 'flaky', 6);
    let failures = 0;
    const flaky = {
      readStream: (id: string, opts?: { fromVersion?: number; limit?: number }) => (failures < 2 ? Promise.reject(new Error(`store away ${++failures}`)) : store.readStream(id, opts)),
    };
    bus = new MemoryEventBus();
    const model = new TaskReadModel({ store: flaky });
    feed = followTaskFeed(model, { bus, groupId: 'g' });
    await bus.publish(all.slice(3));
    await waitFor(() => model.get('flaky')?.version === 6, 'the retried batch');
    expect(failures).toBe(2);
    expect(model.get('flaky')).toEqual(await exact(all));
  });

  it('retries the history read while the store is away, and stops cleanly', async () => {
    const store = new MemoryEventStore();
    const all = await appendTask(store, 'h', 4);
    let failures = 0;
    const flaky = { readAll: (...args: Parameters<MemoryEventStore['readAll']>) => (failures++ < 1 ? Promise.reject(new Error('store away')) : store.readAll(...args)) };
    bus = new MemoryEventBus();
    const model = new TaskReadModel({ store });
    feed = followTaskFeed(model, { bus, store: flaky, groupId: 'g' });
    await feed.caughtUp;
    expect(model.get('h')).toEqual(await exact(all));
    await feed.stop();
    feed = undefined;
    await bus.publish(await appendTask(store, 'late', 2));
    await new Promise((r) => setTimeout(r, 50));
    expect(model.get('late')).toBeUndefined();
  });
});
