import type { StoredEvent } from '../../core/events/index.ts';
import { deliverWithRetry, type BatchHandler } from './deliver-with-retry.ts';
import type { EventBus, SubscribeOptions } from './event-bus.ts';
import { silentLog, type LogSink } from '../../edge/log/log-sink.ts';
import { DamselflyError } from '../../core/errors.ts';

interface Group {
  /** Committed offset: the index in the log of the next event to deliver. */
  offset: number;
  /** Members in join order; only the first consumes (a one-partition topic), the rest wait. */
  members: Member[];
}

interface Member {
  running: boolean;
  done: Promise<void>;
}

/**
 * The in-process bus of the embedded mode (and of unit tests): one ordered log, consumer
 * groups with committed offsets, at-least-once delivery with the same retry rule as Kafka.
 * It models a single-partition topic, which keeps per-stream order trivially.
 *
 * The log lives in memory only: after a restart it starts empty. Events are cloned on publish
 * so a publisher mutating its objects afterwards cannot rewrite history; consumers must treat
 * what they receive as read-only (it is shared between groups).
 */
export class MemoryEventBus implements EventBus {
  private readonly log: StoredEvent[] = [];
  private readonly byStream = new Map<string, StoredEvent[]>();
  private readonly groups = new Map<string, Group>();
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly opts: { logger?: LogSink; maxBatch?: number } = {},
  ) {}

  async publish(events: StoredEvent[]): Promise<void> {
    if (this.closed) throw new DamselflyError('DF_ERR_UNAVAILABLE', 'the event bus is closed');
    for (const e of events) {
      const copy = structuredClone(e);
      this.log.push(copy);
      let stream = this.byStream.get(copy.streamId);
      if (!stream) this.byStream.set(copy.streamId, (stream = []));
      stream.push(copy);
    }
    if (events.length > 0) this.notify();
  }

  async readStream(streamId: string): Promise<StoredEvent[]> {
    return [...(this.byStream.get(streamId) ?? [])];
  }

  async subscribe(groupId: string, handle: BatchHandler, opts: SubscribeOptions = {}): Promise<() => Promise<void>> {
    let group = this.groups.get(groupId);
    if (!group) this.groups.set(groupId, (group = { offset: opts.from === 'end' ? this.log.length : 0, members: [] }));
    const member: Member = { running: true, done: Promise.resolve() };
    group.members.push(member);
    member.done = this.consume(group, member, groupId, handle);
    return async () => {
      member.running = false;
      this.notify();
      await member.done;
      if (opts.ephemeral && group.members.length === 0) this.groups.delete(groupId);
    };
  }

  private async consume(group: Group, me: Member, groupId: string, handle: BatchHandler): Promise<void> {
    const maxBatch = this.opts.maxBatch ?? 500;
    try {
      while (me.running && !this.closed) {
        if (group.members[0] !== me || group.offset >= this.log.length) {
          await this.changed();
          continue;
        }
        const batch = this.log.slice(group.offset, group.offset + maxBatch);
        const handled = await deliverWithRetry(() => handle(batch), {
          isRunning: () => me.running && !this.closed,
          log: this.opts.logger ?? silentLog,
          where: `memory bus group ${groupId}`,
          events: batch.length,
        });
        if (handled) group.offset += batch.length;
      }
    } finally {
      group.members.splice(group.members.indexOf(me), 1);
      this.notify();
    }
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.notify();
    const members = [...this.groups.values()].flatMap((g) => g.members);
    for (const m of members) m.running = false;
    await Promise.all(members.map((m) => m.done));
  }
}
