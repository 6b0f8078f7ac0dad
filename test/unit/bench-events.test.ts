import { describe, expect, it } from 'vitest';
import { AppendWorkload } from '../../bench/events/append-workload.ts';
import { measureRelay } from '../../bench/events/relay-figure.ts';
import { rebuildByTransition, rebuildFromBus, rebuildFromStore, rebuildInMemory } from '../../bench/events/replay-paths.ts';
import { buildTaskHistory } from '../../bench/events/task-history.ts';
import { stateHash } from '../../core/task/index.ts';
import { MemoryEventBus } from '../../supernode/bus/memory-event-bus.ts';
import { MemoryEventStore } from '../../supernode/store/memory-event-store.ts';

// The benchmark's parts on the in-memory adapters, with small counts: what it appends is what
// it replays, the relay moves the whole backlog, and every rebuild path reaches the same state.
describe('bench events (in-memory adapters)', () => {
  const history = buildTaskHistory({ events: 600, contentLength: 8 * 1024 * 1024, concurrentPeers: 6 });

  it('builds a realistic history with core decide(): rounds of reports and assignments', () => {
    const types = new Set(history.events.map((e) => e.type));
    expect(history.events).toHaveLength(600);
    expect(history.events[0]!.type).toBe('TaskCreated');
    for (const t of ['SourceProbed', 'PiecesSeeded', 'PeerJoined', 'PiecesAssigned', 'PiecesReported', 'PeerSucceeded']) expect(types).toContain(t);
    expect(buildTaskHistory({ events: 600, contentLength: 8 * 1024 * 1024, concurrentPeers: 6 }).events).toEqual(history.events);
  });

  it('appends, relays and rebuilds the same task on every path', async () => {
    const store = new MemoryEventStore();
    const bus = new MemoryEventBus();
    const w = new AppendWorkload(store, history.events, 'unit');
    const big = w.streamId('replay');
    const events = w.slice(big, 0, 500);

    const single = await w.sequential(w.streamId('seq'), w.slice(w.streamId('seq'), 0, 30), 1);
    const concurrent = await w.concurrent('c', 40, 4, 3);
    const batched = await w.sequential(big, events, 100);
    expect([single.events, concurrent.events, batched.events]).toEqual([30, 40, 500]);
    expect(await store.streamVersion(big)).toBe(500);
    expect(await store.streamVersion(w.streamId('c-3'))).toBe(10);

    const { throughput } = await measureRelay(store, bus, 'unit-relay', 570);
    expect(throughput.events).toBe(570);

    const expected = stateHash(rebuildInMemory(events).snapshot);
    expect(stateHash(rebuildByTransition(events).snapshot)).toBe(expected);
    const fromStore = await rebuildFromStore(store, big);
    const fromBus = await rebuildFromBus(bus, big);
    expect(fromStore.events).toBe(500);
    expect(fromBus.events).toBe(500);
    expect(stateHash(fromStore.snapshot)).toBe(expected);
    expect(stateHash(fromBus.snapshot)).toBe(expected);
  });
});
