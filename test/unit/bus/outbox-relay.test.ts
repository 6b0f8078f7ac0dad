import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../core/events/index.ts';
import { MemoryEventBus } from '../../../supernode/bus/memory-event-bus.ts';
import { Deduplicator } from '../../../supernode/read-model/deduplicator.ts';
import { OutboxRelay } from '../../../supernode/relay/outbox-relay.ts';
import type { EventStore } from '../../../supernode/store/event-store.ts';
import { MemoryEventStore } from '../../../supernode/store/memory-event-store.ts';
import { range, sampleEvents, waitFor } from '../../shared/event-bus-conformance.ts';

type RelayStore = Pick<EventStore, 'append' | 'readAll' | 'loadCursor' | 'saveCursor'>;

const makeStore = (): RelayStore => new MemoryEventStore(() => 1_700_000_000_000);

async function appendStreams(store: RelayStore, streams: number, perStream: number, chunk = 5): Promise<number> {
  const events = Array.from({ length: streams }, (_, s) => sampleEvents(`t${s}`, perStream));
  for (let from = 0; from < perStream; from += chunk) {
    for (let s = 0; s < streams; s++) await store.append(`t${s}`, from, events[s]!.slice(from, from + chunk), { epoch: 1 });
  }
  return streams * perStream;
}

/** Every stream, after dedupe, is versions 1..n in order: nothing lost, nothing reordered. */
function expectContiguous(published: StoredEvent[], streams: number, perStream: number): void {
  const applied = new Deduplicator().filter(published);
  for (let s = 0; s < streams; s++) {
    expect(applied.filter((e) => e.streamId === `t${s}`).map((e) => e.version)).toEqual(range(1, perStream));
  }
}

/** A bus that records what it was given and can be made to fail, like a broker that is down. */
function recordingBus() {
  const published: StoredEvent[] = [];
  // crashAtCall: that publish is acked, then fails (the relay "dies" before saving its cursor).
  const state = { down: false, crashAtCall: 0, calls: 0 };
  return {
    published,
    state,
    async publish(events: StoredEvent[]) {
      state.calls += 1;
      if (state.down) throw new Error('broker unavailable');
      published.push(...events);
      if (state.calls === state.crashAtCall) throw new Error('acked, then the relay died before saving its cursor');
    },
  };
}

describe('OutboxRelay', () => {
  it('publishes everything in store order and advances the durable cursor', async () => {
    const store = makeStore();
    const total = await appendStreams(store, 4, 30);
    const bus = new MemoryEventBus();
    const published: number[] = [];
    const relay = new OutboxRelay({ store, bus, batchSize: 7, pollMs: 10, metrics: { onPublished: (n) => published.push(n) } }).start();
    await relay.flush();
    expect(published.reduce((a, b) => a + b, 0)).toBe(total);
    expect(Math.max(...published)).toBeLessThanOrEqual(7);
    expect((await store.loadCursor('kafka-relay')).position).toBe(total);
    for (let s = 0; s < 4; s++) expect((await bus.readStream(`t${s}`)).map((e) => e.version)).toEqual(range(1, 30));
    expect(relay.lag()).toBe(0);
    await relay.stop();
  });

  it('wake() publishes a fresh append without waiting for the poll', async () => {
    const store = makeStore();
    const bus = recordingBus();
    const relay = new OutboxRelay({ store, bus, pollMs: 60_000 }).start();
    await waitFor(() => bus.state.calls === 0 && relay.stats.failures === 0, 'start');
    await new Promise((r) => setTimeout(r, 20)); // the relay is idle in its 60 s poll now
    await store.append('t0', 0, sampleEvents('t0', 3), { epoch: 1 });
    relay.wake(3);
    await waitFor(() => bus.published.length === 3, 'the woken relay', 2_000);
    await relay.stop();
  });

  it('keeps appends flowing while the bus is down and catches up in order', async () => {
    const store = makeStore();
    const bus = recordingBus();
    const lags: number[] = [];
    const relay = new OutboxRelay({ store, bus, batchSize: 50, pollMs: 5, maxBackoffMs: 40, metrics: { onLag: (l) => lags.push(l) } }).start();
    await appendStreams(store, 5, 10);
    await relay.flush();
    bus.state.down = true;
    const appended = await appendStreams(makeStoreView(store, 10), 5, 20);
    relay.wake(appended);
    await waitFor(() => relay.stats.failures >= 3, 'failed passes');
    expect(relay.lag()).toBeGreaterThan(0);
    bus.state.down = false;
    await relay.flush();
    expect(relay.lag()).toBe(0);
    expectContiguous(bus.published, 5, 30);
    expect(bus.published).toHaveLength(150);
    await relay.stop();
  });

  it('re-publishes a batch acked before a crash, and nothing is lost or reordered', async () => {
    const store = makeStore();
    await appendStreams(store, 6, 40);
    const bus = recordingBus();
    bus.state.crashAtCall = 5;
    const first = new OutboxRelay({ store, bus, batchSize: 25, pollMs: 5, maxBackoffMs: 10_000 }).start();
    await waitFor(() => first.stats.failures === 1, 'the crash');
    await first.stop(); // dies in its backoff: the last acked batch's cursor was never saved
    const saved = (await store.loadCursor('kafka-relay')).position;
    expect(saved).toBe(100);
    expect(bus.published).toHaveLength(125);

    const second = new OutboxRelay({ store, bus, batchSize: 25, pollMs: 5 });
    await second.flush(); // not started: drains inline
    expect(bus.published.length).toBeGreaterThan(240);
    expectContiguous(bus.published, 6, 40);
    const ids = bus.published.map((e) => e.eventId);
    expect(new Set(ids).size).toBe(240);
  });

  it('stops promptly while backing off from a failing bus', async () => {
    const bus = recordingBus();
    bus.state.down = true;
    const store = makeStore();
    await appendStreams(store, 1, 3);
    const relay = new OutboxRelay({ store, bus, maxBackoffMs: 60_000 }).start();
    await waitFor(() => relay.stats.failures >= 1, 'a failure');
    const t0 = Date.now();
    await relay.stop();
    expect(Date.now() - t0).toBeLessThan(1_000);
    await expect(relay.flush()).rejects.toThrow('broker unavailable');
  });

  it('coalesces wakes: appends arriving one by one go out in a few passes, all of them, in order', async () => {
    const store = makeStore();
    const bus = recordingBus();
    const relay = new OutboxRelay({ store, bus, pollMs: 1_000, coalesceMs: 100 }).start();
    await relay.flush(); // an empty first pass, so that the window starts now
    const before = bus.state.calls;
    const events = sampleEvents('t0', 20);
    for (let v = 0; v < 20; v++) {
      await store.append('t0', v, [events[v]!], { epoch: 1 });
      relay.wake(1);
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => bus.published.length === 20, 'the relay to publish all 20');
    // One append per 5 ms over ~100 ms, passes at most every 100 ms: a pass per append would be 20.
    expect(bus.state.calls - before).toBeLessThanOrEqual(3);
    expectContiguous(bus.published, 1, 20);
    await relay.stop();
  });
});

/** Appends to stream `t<s>` continuing after `offset` events (the streams already have them). */
function makeStoreView(store: RelayStore, offset: number): RelayStore {
  return {
    ...store,
    append: (streamId, expected, events, opts) => store.append(streamId, expected + offset, events.map((e) => e), opts),
  };
}
