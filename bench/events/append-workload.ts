import { createHash, randomUUID } from 'node:crypto';
import { SCHEMA_VERSION, type NewEvent, type TaskEvent } from '../../core/events/index.ts';
import type { EventStore } from '../../supernode/store/event-store.ts';
import { measure, type Throughput } from './throughput.ts';

/**
 * The append workloads, on any EventStore adapter. Each stream gets the benchmark's task
 * history from its start, so every stream is itself a valid task history with realistic event
 * sizes; each event gets a fresh id, as the supernode gives it.
 */
export class AppendWorkload {
  constructor(
    private readonly store: EventStore,
    private readonly history: readonly TaskEvent[],
    /** Makes stream ids unique to this run (the schema is fresh too, but ids stay readable). */
    private readonly runId: string,
  ) {}

  streamId(name: string): string {
    return createHash('sha256').update(`bench/${this.runId}/${name}`).digest('hex');
  }

  /** Events `from`..`from + count` of the history for `streamId` (cycling if it runs out). */
  slice(streamId: string, from: number, count: number): NewEvent[] {
    const out: NewEvent[] = [];
    for (let i = from; i < from + count; i++) {
      const event = this.history[i % this.history.length]!;
      const body = event.type === 'TaskCreated' ? { ...event, data: { ...event.data, taskId: streamId } } : event;
      out.push({ ...body, eventId: randomUUID(), schemaVersion: SCHEMA_VERSION });
    }
    return out;
  }

  /** One writer appends `events` to one stream, `perAppend` per append (1 = one event per transaction). */
  async sequential(streamId: string, events: readonly NewEvent[], perAppend: number): Promise<Throughput> {
    return measure(() => this.appendAll(streamId, events, perAppend));
  }

  /**
   * `writers` concurrent writers, each on its own stream (as the supernode's task actors are),
   * each appending `perAppend` events per call until `total` events are written between them.
   * This is where an adapter's group commit shows: many small appends share one fsync.
   * The events are made before the clock starts.
   */
  async concurrent(name: string, total: number, writers: number, perAppend: number): Promise<Throughput> {
    const share = Math.ceil(total / writers);
    const streams = Array.from({ length: writers }, (_, w) => {
      const streamId = this.streamId(`${name}-${w}`);
      return { streamId, events: this.slice(streamId, 0, share) };
    });
    return measure(async () => {
      const counts = await Promise.all(streams.map((s) => this.appendAll(s.streamId, s.events, perAppend)));
      return counts.reduce((a, b) => a + b, 0);
    });
  }

  private async appendAll(streamId: string, events: readonly NewEvent[], perAppend: number): Promise<number> {
    let version = 0;
    while (version < events.length) {
      const batch = events.slice(version, version + perAppend);
      version = (await this.store.append(streamId, version, batch, { epoch: 1 })).version;
    }
    return version;
  }
}
