import { parseStoredEvent, type StoredEvent } from '../../core/events/index.ts';

/** The columns every event read selects, in the shape toStoredEvent expects. */
export const EVENT_COLUMNS = `position, tx_id::text AS tx_id, stream_id, version, event_id::text AS event_id, type,
  schema_version, data, epoch, (extract(epoch FROM recorded_at) * 1000)::bigint AS recorded_ms`;

export interface EventRow {
  position: number | string;
  tx_id: string;
  stream_id: string;
  version: number | string;
  event_id: string;
  type: string;
  schema_version: number | string;
  data: unknown;
  epoch: number | string;
  recorded_ms: number | string;
}

/**
 * A row as a validated StoredEvent. int8 columns come back as strings from pg and as numbers
 * from PGlite; positions and epochs stay far below 2^53, so Number() is exact. A row that fails
 * validation throws MalformedEvent with its position and id: readers stop on it rather than
 * skip it (a skipped event would silently diverge every replica's state).
 */
export function toStoredEvent(row: EventRow, where: string): StoredEvent {
  return parseStoredEvent(
    {
      eventId: row.event_id,
      schemaVersion: Number(row.schema_version),
      streamId: row.stream_id,
      version: Number(row.version),
      position: Number(row.position),
      epoch: Number(row.epoch),
      recordedAt: Number(row.recorded_ms),
      type: row.type,
      data: row.data,
    },
    where,
  );
}
