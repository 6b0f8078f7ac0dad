import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../core/events/index.ts';
import { MemoryEventBus } from '../../../supernode/bus/memory-event-bus.ts';
import { Deduplicator } from '../../../supernode/read-model/deduplicator.ts';
import { TaskReadModel } from '../../../supernode/read-model/task-read-model.ts';
import { followTaskFeed } from '../../../supernode/read-model/task-feed.ts';
import { interleave, storedStream, waitFor } from '../../shared/event-bus-conformance.ts';

describe('Deduplicator', () => {
  it('applies each stream version once, counts duplicates, stale epochs and gaps', () => {
    const d = new Deduplicator();
    const [e1, e2, e3, e4] = storedStream('s', 4, 2);
    expect([e1, e2, e1, e2, e3].map((e) => d.check(e!))).toEqual(['apply', 'apply', 'duplicate', 'duplicate', 'apply']);
    // Version 4 written by a writer fenced off at epoch 1 (the stream is at epoch 2): stale.
    expect(d.check({ ...e4!, epoch: 1 })).toBe('stale');
    expect(d.check(e4!)).toBe('apply');
    expect(d.check({ ...e4!, version: 6, epoch: 3 })).toBe('apply');
    expect(d.counts).toEqual({ applied: 5, duplicates: 2, stale: 1, gaps: 1 });
    expect(d.lastVersion('s')).toBe(6);
  });

  it('forgets the least recently touched stream beyond maxStreams', () => {
    const d = new Deduplicator({ maxStreams: 2 });
    const a = storedStream('a', 2);
    d.check(a[0]!);
    d.check(storedStream('b', 1)[0]!);
    d.check(a[1]!); // touches a
    d.check(storedStream('c', 1)[0]!); // evicts b
    expect([d.lastVersion('a'), d.lastVersion('b'), d.lastVersion('c')]).toEqual([2, 0, 1]);
  });
});

describe('TaskReadModel', () => {
  const events = storedStream('task-1', 9);

  it('folds a task summary from its events', async () => {
    const model = new TaskReadModel();
    expect(await model.apply(events)).toBe(9);
    // v1 created, v2 probed (256 pieces), odd v>=3 seed pieces 3,5,7,9; even v>=4 peers join.
    expect(model.get('task-1')).toEqual({
      taskId: 'task-1',
      version: 9,
      status: 'seeding',
      url: 'https://origin.test/task-1',
      pieceCount: 256,
      seededCount: 4,
      peers: 3,
      lastEventAt: events[8]!.data.at,
    });
  });

  it('ignores a re-delivered batch and drops a stale-epoch event', async () => {
    const model = new TaskReadModel();
    await model.apply(events.slice(0, 6));
    const before = model.get('task-1');
    expect(await model.apply(events.slice(2, 6))).toBe(0);
    expect(model.get('task-1')).toEqual(before);
    // The stream moved to epoch 2; a zombie at epoch 1 then publishes "version 8".
    const takeover: StoredEvent = { ...events[6]!, epoch: 2, type: 'OwnershipAcquired', data: { replicaId: 'r2', epoch: 2, at: 5 } };
    const zombie: StoredEvent = { ...events[7]!, epoch: 1, type: 'TaskFailed', data: { reason: 'zombie', at: 6 } };
    expect(await model.apply([takeover, zombie])).toBe(1);
    expect(model.get('task-1')).toMatchObject({ version: 7, status: 'seeding' });
    expect(model.dedupe.counts).toMatchObject({ duplicates: 4, stale: 1 });
  });

  it('follows a bus at least once and still counts every piece once', async () => {
    const bus = new MemoryEventBus({ maxBatch: 3 });
    const model = new TaskReadModel();
    const feed = followTaskFeed(model, { bus, groupId: 'read-model' });
    await bus.publish(events);
    await bus.publish(events.slice(3)); // a relay re-publishing after a crash
    await waitFor(() => model.dedupe.counts.duplicates === 6, 'the re-published events');
    expect(model.get('task-1')).toMatchObject({ version: 9, seededCount: 4, peers: 3 });
    await feed.stop();
    await bus.close();
  });

  it('bounds its Deduplicator like its list, and never by forgetting a task it keeps', async () => {
    expect(new TaskReadModel().dedupe.maxStreams).toBe(10_001);
    const model = new TaskReadModel({ maxTasks: 5 });
    expect(model.dedupe.maxStreams).toBe(6);
    const streams = Array.from({ length: 40 }, (_, i) => storedStream(`t${i}`, 9));
    await model.apply(interleave(streams));
    expect(model.size).toBe(5);
    expect(model.dedupe.size).toBeLessThanOrEqual(6);
    // The kept tasks' redelivered events are all duplicates: their summaries stay as they were.
    const kept = streams.filter((s) => model.get(s[0]!.streamId));
    expect(kept).toHaveLength(5);
    const before = kept.map((s) => model.get(s[0]!.streamId));
    expect(await model.apply(interleave(kept))).toBe(0);
    expect(kept.map((s) => model.get(s[0]!.streamId))).toEqual(before);
  });
});
