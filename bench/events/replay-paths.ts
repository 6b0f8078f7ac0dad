import { streamOnce, type StoredEvent, type TaskEvent } from '../../core/events/index.ts';
import { replay, replayByTransition, type TaskSnapshot } from '../../core/task/index.ts';
import type { EventBus } from '../../supernode/bus/event-bus.ts';
import type { EventStore } from '../../supernode/store/event-store.ts';

/**
 * A rebuilt task: how many events were folded and the resulting snapshot. Its stateHash must be
 * equal on every path; the caller hashes it after the clock stops (hashing is not the fold).
 */
export interface Rebuilt {
  events: number;
  snapshot: TaskSnapshot;
}

/** Page size of a store read; the same as `damselfly replay` uses. */
const PAGE = 10_000;

/** Rebuild from the event store: page through the stream, fold with core's replay. */
export async function rebuildFromStore(store: EventStore, streamId: string): Promise<Rebuilt> {
  const events: StoredEvent[] = [];
  for (;;) {
    const page = await store.readStream(streamId, { fromVersion: events.length, limit: PAGE });
    for (const event of page) events.push(event);
    if (page.length < PAGE) break;
  }
  return rebuilt(events, replay(events));
}

/** Rebuild from the distribution log: the bus reads the stream's partition, then the same fold. */
export async function rebuildFromBus(bus: EventBus, streamId: string): Promise<Rebuilt> {
  const events = streamOnce(await bus.readStream(streamId));
  return rebuilt(events, replay(events));
}

/** The pure fold as takeover runs it: core's replay (the machine's reducer in place). */
export function rebuildInMemory(events: readonly TaskEvent[]): Rebuilt {
  return rebuilt(events, replay(events));
}

/** The pure fold through XState's `transition()`, one event at a time (what a live actor pays). */
export function rebuildByTransition(events: readonly TaskEvent[]): Rebuilt {
  return rebuilt(events, replayByTransition(events));
}

function rebuilt(events: readonly TaskEvent[], snapshot: TaskSnapshot): Rebuilt {
  return { events: events.length, snapshot };
}
