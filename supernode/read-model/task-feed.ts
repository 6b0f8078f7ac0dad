import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredEvent } from '../../core/events/index.ts';
import type { EventBus } from '../bus/event-bus.ts';
import { silentLog, type LogSink } from '../bus/index.ts';
import { START_CURSOR, type EventStore, type GlobalCursor } from '../store/event-store.ts';
import type { TaskReadModel } from './task-read-model.ts';

export interface TaskFeedOptions {
  bus: Pick<EventBus, 'subscribe'>;
  /**
   * A consumer group of this process's own: every replica must see every partition, and the
   * model lives in memory, so offsets a previous run committed would skip what it must re-read.
   */
  groupId: string;
  /** The store's history, for what the bus no longer holds. */
  store?: Pick<EventStore, 'readAll'>;
  log?: LogSink;
  /** Events per read of the store's history. */
  pageSize?: number;
}

export interface TaskFeed {
  /** Resolves once the store's history (as of the start) is folded in, or at stop(). */
  readonly caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Feeds a TaskReadModel with every committed event of the cluster, whichever replica wrote
 * it: the bus from the start of its log, and the store's global feed once from its start. The
 * two overlap — the Deduplicator drops what arrives twice — and together miss nothing: the bus
 * has everything published since its log begins (Kafka's retention; the in-process bus's since
 * this process started), the store everything older. Not awaited by the supernode's start
 * (joining a Kafka group takes seconds): the list fills as the feed is read. The price is one
 * pass over the store's events and one over the bus's log per process start, in the
 * background (a page of `pageSize` events per query), and then each new event once more per
 * replica, folded in about a microsecond.
 *
 * Both halves retry with capped backoff (Kafka or the database away at start-up, or a
 * read-back failing): the list lags meanwhile, it never skips an event.
 */
export function followTaskFeed(model: TaskReadModel, o: TaskFeedOptions): TaskFeed {
  const log = o.log ?? silentLog;
  const stopping = new AbortController();
  const handle = async (events: StoredEvent[]): Promise<void> => {
    await model.apply(events);
  };
  const subscribed = untilDone('subscribing to the bus', () => o.bus.subscribe(o.groupId, handle, { from: 'start', ephemeral: true }), stopping.signal, log);
  const caughtUp = o.store ? foldHistory(model, o.store, o.pageSize ?? 1000, stopping.signal, log) : Promise.resolve();
  return {
    caughtUp,
    async stop() {
      stopping.abort();
      await caughtUp;
      const stopBus = await subscribed;
      await stopBus?.();
    },
  };
}

async function foldHistory(model: TaskReadModel, store: Pick<EventStore, 'readAll'>, pageSize: number, signal: AbortSignal, log: LogSink): Promise<void> {
  let cursor: GlobalCursor = START_CURSOR;
  for (;;) {
    const read = await untilDone('reading the store\'s history', async () => {
      const page = await store.readAll(cursor, pageSize);
      await model.apply(page.events);
      return page;
    }, signal, log);
    if (!read) return; // stopped
    cursor = read.cursor;
    if (read.events.length < pageSize) return;
  }
}

/** `attempt` until it succeeds (its result) or the feed stops (undefined). One warning per outage. */
async function untilDone<T>(what: string, attempt: () => Promise<T>, signal: AbortSignal, log: LogSink): Promise<T | undefined> {
  for (let failures = 0; !signal.aborted; failures++) {
    try {
      const result = await attempt();
      if (failures > 0) log.info({ what, failures }, 'task list feed going again');
      return result;
    } catch (err) {
      if (failures === 0) log.warn({ err, what }, 'task list feed failed; retrying with backoff (the list lags meanwhile)');
      // An abort ends the wait early; the loop's condition then ends the retries.
      await sleep(Math.min(5_000, 200 * 2 ** Math.min(failures, 5)), undefined, { signal }).catch(() => undefined);
    }
  }
  return undefined;
}
