import type { EventBus } from '../../supernode/bus/event-bus.ts';
import { OutboxRelay } from '../../supernode/relay/outbox-relay.ts';
import type { EventStore } from '../../supernode/store/event-store.ts';
import { measure, type Throughput } from './throughput.ts';

/** The supernode's relay batch (OutboxRelay's default), stated so the figure says what it measured. */
const RELAY_BATCH = 1000;

/** Where the relay's time went: reading the feed from the store vs publishing to the bus. */
export interface RelaySplit {
  readSeconds: number;
  publishSeconds: number;
  /**
   * Time the relay had nothing to read although the backlog was not out yet: the gap-free feed
   * withholding commits newer than another client's open transaction. Included in the figure;
   * a run where this is not ~0 was disturbed by other work on the database and is worth rerunning.
   */
  heldBackSeconds: number;
  batchSize: number;
}

export interface RelayOptions {
  /** Describes what holds the feed back (for the error when it never catches up). */
  explainStall?: () => Promise<string>;
  stallTimeoutMs?: number;
}

/**
 * The outbox relay draining a backlog of `backlog` committed events from the store to the bus,
 * timed from its first read to the acknowledgement of its last publish.
 */
export async function measureRelay(
  store: EventStore,
  bus: EventBus,
  name: string,
  backlog: number,
  opts: RelayOptions = {},
): Promise<{ throughput: Throughput; split: RelaySplit }> {
  const split = { readSeconds: 0, publishSeconds: 0, heldBackSeconds: 0 };
  const relay = new OutboxRelay({
    store: timed(store, 'readAll', (s) => (split.readSeconds += s)),
    bus: timed(bus, 'publish', (s) => (split.publishSeconds += s)),
    name,
    batchSize: RELAY_BATCH,
  });
  const throughput = await measure(() => drain(relay, backlog, split, opts));
  return {
    throughput,
    split: {
      readSeconds: round3(split.readSeconds),
      publishSeconds: round3(split.publishSeconds),
      heldBackSeconds: round3(split.heldBackSeconds),
      batchSize: RELAY_BATCH,
    },
  };
}

/**
 * Drains until `backlog` events are published. One flush can stop short: the gap-free feed
 * withholds transactions newer than the oldest one still running anywhere in the cluster
 * (another client's open transaction) and hands them out once it ends.
 */
async function drain(relay: OutboxRelay, backlog: number, split: { heldBackSeconds: number }, opts: RelayOptions): Promise<number> {
  let stalledSince: number | undefined;
  for (;;) {
    const started = performance.now();
    const before = relay.stats.published;
    await relay.flush();
    if (relay.stats.published >= backlog) return relay.stats.published;
    if (relay.stats.published > before) {
      stalledSince = undefined;
      continue;
    }
    stalledSince ??= started;
    if (performance.now() - stalledSince > (opts.stallTimeoutMs ?? 60_000)) {
      const why = opts.explainStall ? `; ${await opts.explainStall()}` : '';
      throw new Error(`the relay is stuck at ${relay.stats.published} of ${backlog} events: the feed is held back${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    split.heldBackSeconds += (performance.now() - started) / 1000;
  }
}

/** `port` with `method` timed: the relay only sees the port, so the split costs it nothing else. */
function timed<T extends object>(port: T, method: keyof T & string, add: (seconds: number) => void): T {
  const original = (port[method] as (...args: unknown[]) => Promise<unknown>).bind(port);
  const wrapper = Object.create(port) as T;
  (wrapper as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    const start = performance.now();
    try {
      return await original(...args);
    } finally {
      add((performance.now() - start) / 1000);
    }
  };
  return wrapper;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
