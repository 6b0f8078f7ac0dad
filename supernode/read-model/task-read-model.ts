import type { StoredEvent } from '../../core/events/index.ts';
import type { EventBus } from '../bus/event-bus.ts';
import { Deduplicator } from './deduplicator.ts';
import { emptySummary, foldSummary, type SummaryState, type TaskSummary } from './task-summary.ts';

/**
 * A per-task summary kept up to date from the distribution log. Fed at-least-once by
 * `bus.subscribe`, it stays exact because every event goes through the Deduplicator first:
 * a re-delivered batch changes nothing and an event from a fenced-off writer is dropped.
 */
export class TaskReadModel {
  private readonly tasks = new Map<string, SummaryState>();
  readonly dedupe: Deduplicator;

  constructor(opts: { dedupe?: Deduplicator } = {}) {
    this.dedupe = opts.dedupe ?? new Deduplicator();
  }

  /** Applies a batch (any mix of streams, each in version order); returns how many were applied. */
  apply(events: readonly StoredEvent[]): number {
    let applied = 0;
    for (const event of events) {
      if (this.dedupe.check(event) !== 'apply') continue;
      let state = this.tasks.get(event.streamId);
      if (!state) this.tasks.set(event.streamId, (state = emptySummary(event.streamId)));
      foldSummary(state, event);
      applied += 1;
    }
    return applied;
  }

  get(taskId: string): TaskSummary | undefined {
    const s = this.tasks.get(taskId)?.summary;
    return s && { ...s };
  }

  list(): TaskSummary[] {
    return [...this.tasks.values()].map((s) => ({ ...s.summary }));
  }

  /** Consumes the bus in consumer group `groupId`; returns the function that stops it. */
  follow(bus: EventBus, groupId: string): Promise<() => Promise<void>> {
    return bus.subscribe(groupId, async (events) => {
      this.apply(events);
    });
  }
}
