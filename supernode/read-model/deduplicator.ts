import type { StoredEvent } from '../../core/events/index.ts';

export type Verdict = 'apply' | 'duplicate' | 'stale';

interface StreamMark {
  version: number;
  maxEpoch: number;
}

/**
 * Makes an at-least-once consumer idempotent, in memory bounded by the number of streams, not
 * of events: it keeps, per stream, the last applied version and the highest epoch seen.
 *
 * Why that is enough instead of a set of event ids: the store gives each (stream, version)
 * exactly one event (unique constraint), the relay publishes a stream in version order, and a
 * stream lives in one Kafka partition, which keeps order. So a redelivered event always has a
 * version <= the last one applied: "version <= last" is a duplicate of an event id already
 * applied. An event whose epoch is below the highest epoch seen for its stream was written by
 * a writer that has since been fenced off (the store refuses such appends, so it can only be a
 * zombie's leftover): stale, dropped.
 *
 * A version that skips ahead (last + 1 < version) is applied but counted in `gaps`: it happens
 * when a consumer starts after retention removed a stream's head, and would otherwise be a bug.
 * With `maxStreams`, the least recently touched stream is forgotten first; a forgotten stream's
 * redelivered events would be applied again, so size it above the number of live tasks.
 */
export class Deduplicator {
  private readonly marks = new Map<string, StreamMark>();
  readonly counts = { applied: 0, duplicates: 0, stale: 0, gaps: 0 };

  constructor(private readonly opts: { maxStreams?: number } = {}) {}

  /** The most streams remembered (Infinity without `maxStreams`). */
  get maxStreams(): number {
    return this.opts.maxStreams ?? Infinity;
  }

  /** How many streams are remembered now. */
  get size(): number {
    return this.marks.size;
  }

  /** Classifies the event and, when it is to be applied, records it as applied. */
  check(event: StoredEvent): Verdict {
    const mark = this.marks.get(event.streamId);
    if (mark && event.version <= mark.version) {
      this.counts.duplicates += 1;
      return 'duplicate';
    }
    if (mark && event.epoch < mark.maxEpoch) {
      this.counts.stale += 1;
      return 'stale';
    }
    if (event.version !== (mark?.version ?? 0) + 1) this.counts.gaps += 1;
    this.remember(event.streamId, { version: event.version, maxEpoch: Math.max(mark?.maxEpoch ?? 0, event.epoch) });
    this.counts.applied += 1;
    return 'apply';
  }

  /** The events of `events` to apply, in order (recording them as applied). */
  filter(events: readonly StoredEvent[]): StoredEvent[] {
    return events.filter((e) => this.check(e) === 'apply');
  }

  /** The last applied version of a stream (0 if none or forgotten). */
  lastVersion(streamId: string): number {
    return this.marks.get(streamId)?.version ?? 0;
  }

  /** Forgets a stream (its next event counts as its first): for a consumer that drops the stream's data too. */
  forget(streamId: string): void {
    this.marks.delete(streamId);
  }

  private remember(streamId: string, mark: StreamMark): void {
    // Delete first so that Map iteration order is least-recently-touched first.
    this.marks.delete(streamId);
    this.marks.set(streamId, mark);
    while (this.marks.size > this.maxStreams) {
      const oldest = this.marks.keys().next().value as string;
      this.marks.delete(oldest);
    }
  }
}
