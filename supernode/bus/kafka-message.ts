import type { KafkaMessage, Message } from 'kafkajs';
import { parseStoredEvent, type StoredEvent } from '../../core/events/index.ts';

/**
 * How a StoredEvent travels on the topic. The key is the stream (task) id, so every event of a
 * task lands in one partition, in order. The value is the whole StoredEvent as JSON, so a
 * consumer needs nothing but the message; the headers duplicate the fields a consumer may want
 * to route or dedupe on without parsing the body (event id, epoch) and make the topic readable
 * with plain Kafka tools.
 */
export const HEADER = {
  eventId: 'event-id',
  epoch: 'epoch',
  schemaVersion: 'schema-version',
  streamVersion: 'stream-version',
  type: 'type',
} as const;

export function toKafkaMessage(event: StoredEvent): Message {
  return {
    key: event.streamId,
    value: JSON.stringify(event),
    headers: {
      [HEADER.eventId]: event.eventId,
      [HEADER.epoch]: String(event.epoch),
      [HEADER.schemaVersion]: String(event.schemaVersion),
      [HEADER.streamVersion]: String(event.version),
      [HEADER.type]: event.type,
    },
  };
}

/**
 * Decodes and validates one message; a bad one fails with its partition and offset
 * (MalformedEvent), it is never skipped silently.
 */
export function fromKafkaMessage(message: KafkaMessage, partition: number): StoredEvent {
  const where = `kafka p${partition} o${message.offset}`;
  let raw: unknown;
  try {
    raw = message.value === null ? null : JSON.parse(message.value.toString('utf8'));
  } catch (err) {
    // Not JSON at all: report it the same way as a schema failure, with where it sits.
    raw = { invalidJson: (err as Error).message };
  }
  return parseStoredEvent(raw, where);
}
