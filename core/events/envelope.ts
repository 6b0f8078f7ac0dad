import { z } from 'zod';
import { TaskEvent } from './task-events.ts';
import { DamselflyError } from '../errors.ts';

/** The schema version every event is written with today (see task-events.ts); readers accept 1 to 4. */
export const SCHEMA_VERSION = 4;

/** An event about to be appended: the domain event plus the id that makes consumers idempotent. */
export type NewEvent = TaskEvent & { eventId: string; schemaVersion: number };

/**
 * An event as stored and as published: `version` is its 1-based place in its stream,
 * `position` its place in the store's global order, `epoch` the fencing token of the writer.
 */
export type StoredEvent = NewEvent & {
  streamId: string;
  version: number;
  position: number;
  epoch: number;
  recordedAt: number;
};

const envelopeFields = z.object({
  eventId: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  streamId: z.string().min(1),
  version: z.number().int().positive(),
  position: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative(),
  recordedAt: z.number().int().nonnegative(),
});

export class MalformedEvent extends DamselflyError {
  constructor(
    readonly where: string,
    readonly eventId: unknown,
    readonly position: unknown,
    readonly issues: string,
  ) {
    super('DF_ERR_MALFORMED_EVENT', `malformed event ${String(eventId)} at ${where} position ${String(position)}: ${issues}`);
  }
}

/**
 * Validates an event read back from storage or Kafka. A bad one is reported with its position
 * and id (never skipped silently): `where` names the source, e.g. "postgres" or "kafka p3".
 */
export function parseStoredEvent(raw: unknown, where: string): StoredEvent {
  const env = envelopeFields.safeParse(raw);
  const body = TaskEvent.safeParse(raw);
  if (!env.success || !body.success) {
    const r = (raw ?? {}) as Record<string, unknown>;
    const issues = [env.error, body.error]
      .filter(Boolean)
      .flatMap((e) => e!.issues.map((i) => `${i.path.join('.')}: ${i.message}`))
      .join('; ');
    throw new MalformedEvent(where, r.eventId, r.position, issues);
  }
  return { ...env.data, ...body.data } as StoredEvent;
}
