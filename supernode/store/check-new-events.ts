import { DamselflyError } from '../../core/errors.ts';
import { TaskEvent, type NewEvent } from '../../core/events/index.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Rejects what must never reach storage, before any adapter touches it: an event that would not
 * read back (readers fail loudly on a malformed row, so one bad write would stop every
 * subscriber), or an event id that is not a UUID (the column type; consumers dedupe by it).
 * Every adapter calls this, so they all reject the same appends the same way.
 * Returns the events as validated (unknown keys dropped, as a read would drop them): storing
 * exactly these is what lets the SQL store answer an append without reading its rows back.
 */
export function checkNewEvents(streamId: string, expectedVersion: number, events: readonly NewEvent[], epoch: number, shard?: number): NewEvent[] {
  const bad = (detail: string) => new DamselflyError('DF_ERR_VALIDATION', `append to ${streamId}: ${detail}`);
  if (!streamId) throw bad('empty stream id');
  if (!Number.isInteger(expectedVersion) || expectedVersion < 0) throw bad(`expected version ${expectedVersion}`);
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw bad(`epoch ${epoch}`);
  if (shard !== undefined && (!Number.isInteger(shard) || shard < 0 || shard > 2_147_483_647)) throw bad(`shard ${shard}`);
  const ids = new Set<string>();
  const checked: NewEvent[] = [];
  for (const e of events) {
    if (!UUID.test(e.eventId)) throw bad(`event id ${JSON.stringify(e.eventId)} is not a lowercase UUID`);
    if (ids.has(e.eventId)) throw bad(`event id ${e.eventId} appears twice`);
    ids.add(e.eventId);
    if (!Number.isInteger(e.schemaVersion) || e.schemaVersion < 1) throw bad(`event ${e.eventId}: schema version ${e.schemaVersion}`);
    const parsed = TaskEvent.safeParse(e);
    if (!parsed.success) throw bad(`event ${e.eventId}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    checked.push({ eventId: e.eventId, schemaVersion: e.schemaVersion, ...parsed.data });
  }
  return checked;
}
