import type { StoredEvent } from '../../core/events/index.ts';
import type { EventStore } from '../store/event-store.ts';
import { streamTail } from '../store/stream-tail.ts';
import { Deduplicator } from './deduplicator.ts';
import { listPage, type TaskListPage, type TaskListQuery } from './task-list-page.ts';
import { emptySummary, foldSummary, type SummaryState, type TaskSummary } from './task-summary.ts';

/**
 * Tasks kept by default. A summary is a few hundred bytes plus a byte per piece while seeding
 * and an entry per peer that joined, so 10 000 tasks stay in the tens of megabytes.
 */
export const DEFAULT_MAX_TASKS = 10_000;

export interface TaskReadModelOptions {
  /**
   * The memory bound: beyond this many tasks the one updated least recently is dropped (its
   * summary and its Deduplicator mark). Tasks the CDN has collected go the same way in time:
   * their stream ends with TaskEvicted and is touched no more. A dropped task that moves again
   * is read back from the store whole (see `store`), so dropping never makes a summary wrong.
   */
  maxTasks?: number;
  /**
   * Where a stream seen mid-way is read from (the store is the truth): a task first seen after
   * Kafka's retention cut its head, one dropped by `maxTasks` that moves again, or a gap.
   * Without it such an event is applied as it is (unit tests).
   */
  store?: Pick<EventStore, 'readStream'>;
}

/**
 * A per-task summary kept up to date from committed events (the bus, and the store's history:
 * see task-feed.ts). Fed at least once, it stays exact because every event goes through the
 * Deduplicator first: a re-delivered batch changes nothing and an event from a fenced-off
 * writer is dropped. Batches are applied one at a time, in arrival order, whoever feeds them.
 */
export class TaskReadModel {
  /** Least recently updated first: an update re-inserts its task (a Map keeps insertion order). */
  private readonly tasks = new Map<string, SummaryState>();
  readonly dedupe: Deduplicator;
  readonly maxTasks: number;
  readonly counts = { dropped: 0, readFromStore: 0 };
  private readonly store: Pick<EventStore, 'readStream'> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: TaskReadModelOptions = {}) {
    this.maxTasks = opts.maxTasks ?? DEFAULT_MAX_TASKS;
    // Bounded like the list, one above it: the list drops a task with its mark (fold), so the
    // Deduplicator never forgets first a stream whose summary is kept (its redelivered events
    // would be folded in twice); its own bound is the backstop if the two ever drift apart.
    this.dedupe = new Deduplicator({ maxStreams: this.maxTasks + 1 });
    this.store = opts.store;
  }

  get size(): number {
    return this.tasks.size;
  }

  /** Applies a batch (any mix of streams, each in version order); resolves to how many were applied. */
  apply(events: readonly StoredEvent[]): Promise<number> {
    const run = this.queue.then(() => this.applyInOrder(events));
    // A batch that failed (the store away during a read-back) is the caller's to retry; the next one still runs.
    this.queue = run.catch(() => undefined);
    return run;
  }

  get(taskId: string): TaskSummary | undefined {
    const s = this.tasks.get(taskId)?.summary;
    return s && { ...s };
  }

  /** One page of the list (see task-list-page.ts). */
  page(query: TaskListQuery): TaskListPage {
    return listPage([...this.tasks.values()].map((s) => s.summary), query);
  }

  private async applyInOrder(events: readonly StoredEvent[]): Promise<number> {
    let applied = 0;
    for (const event of events) {
      if (this.store && event.version > this.dedupe.lastVersion(event.streamId) + 1) applied += await this.readBack(event.streamId);
      applied += this.fold(event);
    }
    return applied;
  }

  /** Folds in what the store holds of a stream after the version applied (0 for a stream not kept). */
  private async readBack(streamId: string): Promise<number> {
    let applied = 0;
    for await (const page of streamTail(this.store!, streamId, this.dedupe.lastVersion(streamId))) {
      for (const event of page) applied += this.fold(event);
    }
    this.counts.readFromStore += 1;
    return applied;
  }

  private fold(event: StoredEvent): number {
    if (this.dedupe.check(event) !== 'apply') return 0;
    const state = this.tasks.get(event.streamId) ?? emptySummary(event.streamId);
    this.tasks.delete(event.streamId);
    this.tasks.set(event.streamId, state);
    foldSummary(state, event);
    while (this.tasks.size > this.maxTasks) {
      const oldest = this.tasks.keys().next().value as string;
      this.tasks.delete(oldest);
      this.dedupe.forget(oldest);
      this.counts.dropped += 1;
    }
    return 1;
  }
}
