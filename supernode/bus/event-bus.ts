import type { StoredEvent } from '../../core/events/index.ts';

/**
 * The distribution log port (Kafka in production, in-process in the embedded mode).
 * kafkajs is the chosen client but it is unmaintained; everything Kafka-specific stays behind
 * this interface so a KafkaJS-compatible client can replace it.
 *
 * Delivery is at-least-once: consumers dedupe by `eventId` and drop events whose epoch is
 * lower than one already seen for the stream.
 */
export interface SubscribeOptions {
  /** Where a group with no committed offsets starts (default 'start'). */
  from?: 'start' | 'end';
  /**
   * The group is this process's own (an id no one else uses, e.g. with a random part): it is
   * deleted when the subscription stops, offsets and all, so that restarts leave no groups
   * behind on the broker. A stop that cannot delete it (the broker away) leaves it to expire.
   */
  ephemeral?: boolean;
}

export interface EventBus {
  /** Publishes events, keyed by stream id, preserving order per stream. Resolves when acked. */
  publish(events: StoredEvent[]): Promise<void>;
  /**
   * Consumes the topic from the group's committed offsets — for a new group, from the beginning,
   * or with `from: 'end'` from the end (only what is published once the consumer has joined) —
   * and calls `handle` per batch, per partition, in partition order. Returns a function that
   * stops the consumer.
   */
  subscribe(groupId: string, handle: (events: StoredEvent[]) => Promise<void>, opts?: SubscribeOptions): Promise<() => Promise<void>>;
  /** Every event of one stream in the log, in log order (for replay and audit). */
  readStream(streamId: string): Promise<StoredEvent[]>;
  close(): Promise<void>;
}
