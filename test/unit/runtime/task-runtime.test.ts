import { describe, expect, it } from 'vitest';
import { MemoryEventStore } from '../../../supernode/store/index.ts';
import { TaskRuntime } from '../../../supernode/runtime/task-runtime.ts';
import { DEFAULT_POLICY } from '../../../core/scheduling/policy.ts';
import { computeTaskId } from '../../../core/ids/index.ts';
import { replay, stateHash, stateOf, type TaskCommand } from '../../../core/task/index.ts';
import type { StoredEvent } from '../../../core/events/index.ts';

const url = 'http://origin.test/file.bin';
const taskId = computeTaskId({ url, filter: [], digest: null, identifier: null, range: null });
const create: TaskCommand = { type: 'CreateTask', at: 1, taskId, url, digest: null, identifier: null, range: null, filter: [] };
const probe: TaskCommand = { type: 'RecordProbe', at: 2, contentLength: 4 * 262144, acceptRanges: true, etag: '"v1"', lastModified: null };
const digest = 'a'.repeat(64);

function runtime(store: MemoryEventStore, extra: Partial<ConstructorParameters<typeof TaskRuntime>[0]> = {}) {
  return new TaskRuntime({ store, policy: DEFAULT_POLICY, snapshotEvery: 5, ...extra });
}

describe('TaskRuntime', () => {
  it('answers a command with its committed events, and the store holds them', async () => {
    const store = new MemoryEventStore();
    const rt = runtime(store);
    const out = await rt.execute(taskId, create);
    expect(out.events.map((e) => e.type)).toEqual(['TaskCreated']);
    expect(out.events[0]!.version).toBe(1);
    expect((await store.readStream(taskId)).map((e) => e.eventId)).toEqual([out.events[0]!.eventId]);
  });

  it('batches commands queued during an append into one append, in order', async () => {
    const store = new MemoryEventStore();
    const batches: number[] = [];
    const rt = runtime(store, { onBatch: (_events, commands) => batches.push(commands) });
    await rt.execute(taskId, create);
    await rt.execute(taskId, probe);
    const seeds = [0, 1, 2, 3].map((piece) =>
      rt.execute(taskId, { type: 'RecordSeededPieces', at: 3 + piece, pieces: [{ piece, size: 262144, digest }] }),
    );
    const outcomes = await Promise.all(seeds);
    expect(outcomes.map((o) => o.events[0]!.version)).toEqual([3, 4, 5, 6]);
    // the first seed command went alone (nothing was in flight); the other three waited and went together
    expect(batches.slice(2)).toEqual([1, 3]);
  });

  it('rejects only the command that decide() refuses, the rest of its batch commits', async () => {
    const rt = runtime(new MemoryEventStore());
    await rt.execute(taskId, create);
    const results = await Promise.allSettled([
      rt.execute(taskId, probe),
      rt.execute(taskId, { type: 'Join', at: 5, peerId: 'p1', hostId: 'h1', address: '127.0.0.1:1' }),
      rt.execute(taskId, { type: 'Round', at: 6, peerId: 'nobody', ok: [], failed: [], want: 1 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
  });

  it('rehydrates from snapshot + tail to the same state hash after passivation', async () => {
    const store = new MemoryEventStore();
    const rt = runtime(store);
    await rt.execute(taskId, create);
    await rt.execute(taskId, probe);
    for (let piece = 0; piece < 4; piece++) await rt.execute(taskId, { type: 'RecordSeededPieces', at: 10 + piece, pieces: [{ piece, size: 262144, digest }] });
    await rt.execute(taskId, { type: 'Join', at: 20, peerId: 'p1', hostId: 'h1', address: '127.0.0.1:1' });
    const live = stateHash(await rt.snapshot(taskId));
    await new Promise((r) => setTimeout(r, 5));
    expect(rt.passivateIdle(0)).toBe(1);
    expect(await store.loadSnapshot(taskId)).toBeDefined();
    expect(stateHash(await rt.snapshot(taskId))).toBe(live);
    expect(stateHash(replay(await store.readStream(taskId)))).toBe(live);
  });

  it('runs side effects only for live commits, never on rehydration', async () => {
    const store = new MemoryEventStore();
    const seen: StoredEvent[] = [];
    const rt = runtime(store, { onCommitted: (_id, events) => seen.push(...events) });
    await rt.execute(taskId, create);
    rt.passivateIdle(-1);
    await rt.snapshot(taskId);
    expect(seen.map((e) => e.type)).toEqual(['TaskCreated']);
  });

  it('re-decides after a version conflict', async () => {
    const store = new MemoryEventStore();
    const a = runtime(store);
    const b = runtime(store);
    await a.execute(taskId, create);
    await b.execute(taskId, probe); // b appends behind a's back
    const out = await a.execute(taskId, { type: 'Join', at: 5, peerId: 'p1', hostId: 'h1', address: '127.0.0.1:1' });
    expect(out.events[0]!.version).toBe(3);
    expect(stateOf(out.snapshot).contentLength).toBe(4 * 262144);
  });

  it('catches up in place on a version conflict: a command arriving during the reload waits for the same actor', async () => {
    const store = new MemoryEventStore();
    const loads: [string, number][] = [];
    let duringReload: Promise<unknown> | undefined;
    const a = runtime(store, {
      onRehydrated: (start, tail) => {
        loads.push([start, tail]);
        // The conflict reload (the second load): a peer's command comes in while it is under way.
        if (loads.length === 2) queueMicrotask(() => (duringReload = a.execute(taskId, { type: 'Join', at: 6, peerId: 'p2', hostId: 'h2', address: '127.0.0.1:2' })));
      },
    });
    const b = runtime(store);
    await a.execute(taskId, create);
    await b.execute(taskId, probe); // b appends behind a's back
    await a.execute(taskId, { type: 'Join', at: 5, peerId: 'p1', hostId: 'h1', address: '127.0.0.1:1' });
    await duringReload;
    // One reload for the one conflict: a second actor for the task would have raced the first and conflicted again.
    expect(loads).toEqual([['empty', 0], ['empty', 2]]);
    expect(a.liveActors).toBe(1);
    expect(stateHash(await a.snapshot(taskId))).toBe(stateHash(replay(await store.readStream(taskId))));
  });

  it('a replica whose claim is older than the task\'s recorded owner steps down before writing anything', async () => {
    const epochs = new Map<number, number>([[0, 2]]);
    const store = new MemoryEventStore(Date.now, (shard) => epochs.get(shard));
    const lost: number[] = [];
    const b = runtime(store, { ownership: { claim: () => ({ shard: 0, epoch: 2, replicaId: 'b' }), lost: () => undefined } });
    await b.execute(taskId, create);
    const a = runtime(store, { ownership: { claim: () => ({ shard: 0, epoch: 1, replicaId: 'a' }), lost: (s) => lost.push(s) } });
    await expect(a.execute(taskId, probe)).rejects.toMatchObject({ code: 'DF_ERR_NOT_OWNER', retryable: true });
    expect(lost).toEqual([0]);
    expect(a.liveTaskIds()).not.toContain(taskId);
    expect((await store.readStream(taskId)).map((e) => e.type)).toEqual(['OwnershipAcquired', 'TaskCreated']);
  });

  it('refuses commands once draining, with a retryable DF_ERR_UNAVAILABLE', async () => {
    const rt = runtime(new MemoryEventStore());
    await rt.drain();
    await expect(rt.execute(taskId, create)).rejects.toMatchObject({ code: 'DF_ERR_UNAVAILABLE', retryable: true });
  });

  it('starts each owner term with OwnershipAcquired, and a fenced former owner steps down with a retryable NOT_OWNER', async () => {
    const epochs = new Map<number, number>();
    const store = new MemoryEventStore(Date.now, (shard) => epochs.get(shard));
    const lost: number[] = [];
    const owner = (replicaId: string, epoch: number) => ({ claim: () => ({ shard: 0, epoch, replicaId }), lost: (s: number) => lost.push(s) });
    epochs.set(0, 1);
    const a = runtime(store, { ownership: owner('a', 1), clock: () => 1_700_000_000_000 });
    await a.execute(taskId, create);
    await a.execute(taskId, probe);
    expect((await store.readStream(taskId)).map((e) => e.type)).toEqual(['OwnershipAcquired', 'TaskCreated', 'SourceProbed']);
    // The term's start is the runtime's clock, carried as data like every command's time.
    expect((await store.readStream(taskId))[0]!.data).toMatchObject({ replicaId: 'a', epoch: 1, at: 1_700_000_000_000 });

    // b takes the shard over with epoch 2 (the lease store granted it), before a has noticed.
    epochs.set(0, 2);
    const b = runtime(store, { ownership: owner('b', 2) });
    const joined = await b.execute(taskId, { type: 'Join', at: 6, peerId: 'p2', hostId: 'h2', address: '127.0.0.1:2' });
    expect(joined.events.map((e) => e.type)).toEqual(['PeerJoined']);
    expect(stateOf(joined.snapshot).owner).toEqual({ replicaId: 'b', epoch: 2 });
    await expect(a.execute(taskId, { type: 'Join', at: 7, peerId: 'p3', hostId: 'h3', address: '127.0.0.1:3' })).rejects.toMatchObject({ code: 'DF_ERR_NOT_OWNER', retryable: true });
    expect(lost).toEqual([0]);
    expect(a.liveTaskIds()).not.toContain(taskId);
    const stored = await store.readStream(taskId);
    expect(stored.map((e) => [e.type, e.epoch])).toEqual([
      ['OwnershipAcquired', 1], ['TaskCreated', 1], ['SourceProbed', 1], ['OwnershipAcquired', 2], ['PeerJoined', 2],
    ]);
  });

  it('refuses commands for a task whose shard it does not hold, writing nothing', async () => {
    const store = new MemoryEventStore();
    const rt = runtime(store, { ownership: { claim: () => undefined, lost: () => undefined } });
    await expect(rt.execute(taskId, create)).rejects.toMatchObject({ code: 'DF_ERR_NOT_OWNER' });
    expect(await store.streamVersion(taskId)).toBe(0);
  });
});
