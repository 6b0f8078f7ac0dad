import { describe, expect, it } from 'vitest';
import { DamselflyError } from '../../../core/errors.ts';
import type { StoredEvent } from '../../../core/events/index.ts';
import type { LogSink } from '../../../edge/log/log-sink.ts';
import { OutboxRelay } from '../../../supernode/relay/outbox-relay.ts';
import type { EventStore } from '../../../supernode/store/event-store.ts';
import { MemoryEventStore } from '../../../supernode/store/memory-event-store.ts';
import { range, sampleEvents, waitFor } from '../../shared/event-bus-conformance.ts';

type RelayStore = Pick<EventStore, 'readAll' | 'loadCursor' | 'saveCursor'>;

/** A memory store whose database can be "down" (every call) or only refuse saves. */
function flakyStore(inner: MemoryEventStore) {
  const state = { down: false, savesFail: false, saves: 0 };
  const unavailable = () => new DamselflyError('DF_ERR_UNAVAILABLE', 'the database is unavailable (ECONNREFUSED)', { retryAfterMs: 1000 });
  const store: RelayStore = {
    readAll: async (c, n) => {
      if (state.down) throw unavailable();
      return inner.readAll(c, n);
    },
    loadCursor: async (name) => {
      if (state.down) throw unavailable();
      return inner.loadCursor(name);
    },
    saveCursor: async (name, c) => {
      if (state.down || state.savesFail) throw unavailable();
      state.saves += 1;
      return inner.saveCursor(name, c);
    },
  };
  return { store, state };
}

async function appendStreams(store: MemoryEventStore, streams: number, perStream: number): Promise<void> {
  for (let s = 0; s < streams; s++) await store.append(`t${s}`, 0, sampleEvents(`t${s}`, perStream), { epoch: 1 });
}

function recordingBus() {
  const published: StoredEvent[] = [];
  const state = { down: false };
  return {
    published,
    state,
    async publish(events: StoredEvent[]) {
      if (state.down) throw new Error('broker unavailable');
      published.push(...events);
    },
  };
}

function recordingLog() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_: object, msg?: string) => void lines.push({ level, msg: msg ?? '' });
  const log: LogSink = { debug() {}, info: at('info'), warn: at('warn'), error: at('error') };
  return { log, count: (level: string, msg: string) => lines.filter((l) => l.level === level && l.msg === msg).length };
}

describe('OutboxRelay through a store outage', () => {
  it('does not publish a batch again when only saving its cursor failed; saves it once the store is back', async () => {
    const inner = new MemoryEventStore(() => 1_700_000_000_000);
    await appendStreams(inner, 4, 25);
    const { store, state } = flakyStore(inner);
    state.savesFail = true;
    const bus = recordingBus();
    const relay = new OutboxRelay({ store, bus, batchSize: 10, pollMs: 5, maxBackoffMs: 10 }).start();
    // Every pass publishes one batch and then fails on the save: the next must go on from there.
    await waitFor(() => relay.stats.failures >= 12, 'failed saves');
    expect(bus.published).toHaveLength(100);
    state.savesFail = false;
    await relay.flush();
    await relay.stop();
    expect(new Set(bus.published.map((e) => e.eventId)).size).toBe(100);
    expect(bus.published).toHaveLength(100);
    for (let s = 0; s < 4; s++) expect(bus.published.filter((e) => e.streamId === `t${s}`).map((e) => e.version)).toEqual(range(1, 25));
    expect((await inner.loadCursor('kafka-relay')).position).toBe(100);
  });

  it('warns once per outage (then at most once per period), says when it recovers, and warns again on the next outage', async () => {
    const inner = new MemoryEventStore(() => 1_700_000_000_000);
    await appendStreams(inner, 2, 5);
    const { store, state } = flakyStore(inner);
    const bus = recordingBus();
    const { log, count } = recordingLog();
    const relay = new OutboxRelay({ store, bus, batchSize: 10, pollMs: 5, maxBackoffMs: 10, failureLogEveryMs: 600_000, logger: log }).start();
    await relay.flush();

    state.down = true;
    await waitFor(() => relay.stats.failures >= 10, 'failed passes (database down)');
    bus.state.down = true; // and then the bus too: still one outage for the log
    state.down = false;
    await inner.append('t8', 0, sampleEvents('t8', 4), { epoch: 1 });
    await waitFor(() => relay.stats.failures >= 20, 'failed passes (bus down)');
    expect(count('warn', 'relay pass failed; backing off')).toBe(1);
    bus.state.down = false;
    await relay.flush();
    expect(count('info', 'relay publishing again')).toBe(1);

    state.down = true;
    await waitFor(() => relay.stats.failures >= 25, 'failed passes (second outage)');
    expect(count('warn', 'relay pass failed; backing off')).toBe(2);
    state.down = false;
    await inner.append('t9', 0, sampleEvents('t9', 3), { epoch: 1 });
    await relay.flush();
    await relay.stop();
    expect(count('info', 'relay publishing again')).toBe(2);
    expect(bus.published).toHaveLength(17);
  });
});
