import { TaskEvent } from '../../core/events/index.ts';
import type { Violation } from './violation.ts';

/**
 * An event as the checker sees it, read straight from a store's columns or a Kafka message
 * (not through the code under test's readers where avoidable): its place in the stream, the
 * writer's epoch, its id, and the domain event.
 */
export interface CheckedEvent {
  version: number;
  epoch: number;
  eventId: string;
  event: TaskEvent;
}

/** A raw row (type + data as stored) → a CheckedEvent, or a violation naming where it sits. */
export function checkedEvent(row: { version: number; epoch: number; eventId: string; type: string; data: unknown }, where: string): CheckedEvent | Violation {
  const parsed = TaskEvent.safeParse({ type: row.type, data: row.data });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    return { invariant: 'event-schema', message: `${where} version ${row.version} (${row.type}, ${row.eventId}) does not parse: ${issues}` };
  }
  return { version: row.version, epoch: row.epoch, eventId: row.eventId, event: parsed.data };
}
