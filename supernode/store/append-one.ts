import { DuplicateEvent, StaleEpoch, VersionConflict } from './errors.ts';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './event-row.ts';
import type { AppendResult } from './event-store.ts';
import type { PendingAppend } from './pending-append.ts';
import { sqlState, type SqlQueryable } from './sql-client.ts';
import { DamselflyError } from '../../core/errors.ts';

/**
 * One append alone, one statement: the group commit's fallback after a batch statement failed
 * (a duplicate event id), run inside a savepoint of its own, so the SQL error it may hit is
 * turned into DuplicateEvent and fails this append only. The head row in `streams` is the
 * guard: for a new stream an INSERT that does nothing if the row exists, else an UPDATE whose
 * WHERE checks the version and epoch; the events are inserted by the same statement, only if
 * the guard returned a row.
 */
export async function appendOne(tx: SqlQueryable, a: PendingAppend, engine: string): Promise<AppendResult> {
  if (a.events.length === 0) {
    await rejectUnlessAt(tx, a);
    return { version: a.expected, events: [] };
  }
  const next = a.expected + a.events.length;
  // The shard lease's fence, as in append-group.ts: no row if a later epoch holds the shard.
  const unfenced = 'NOT EXISTS (SELECT 1 FROM shard_leases l WHERE l.shard = $6::int AND l.epoch > $4)';
  const guard = a.expected === 0
    ? `INSERT INTO streams (stream_id, version, epoch) SELECT $1, $3, $4 WHERE ${unfenced} ON CONFLICT (stream_id) DO NOTHING RETURNING version`
    : `UPDATE streams SET version = $3, epoch = $4 WHERE stream_id = $1 AND version = $2 AND epoch <= $4 AND ${unfenced} RETURNING version`;
  let rows: EventRow[];
  try {
    rows = await tx.query<EventRow>(
      `WITH guard AS (${guard}),
       ins AS (
         INSERT INTO events (stream_id, version, event_id, type, schema_version, data, epoch)
         SELECT $1, $2 + e.ord, (e.v->>'eventId')::uuid, e.v->>'type', (e.v->>'schemaVersion')::int, e.v->'data', $4
         FROM guard, jsonb_array_elements($5::jsonb) WITH ORDINALITY AS e(v, ord)
         RETURNING *)
       SELECT ${EVENT_COLUMNS} FROM ins ORDER BY version`,
      [a.streamId, a.expected, next, a.epoch, a.json, a.shard],
      a.expected === 0 ? 'damselfly_append_new' : 'damselfly_append',
    );
  } catch (err) {
    // The transaction is aborted now (up to the savepoint): no query may run to find the id,
    // the server's message names it ("Key (event_id)=(...) already exists").
    if (sqlState(err) === '23505' && /event_id/.test(errorText(err))) {
      throw new DuplicateEvent(/\(event_id\)=\(([^)]+)\)/.exec(errorText(err))?.[1] ?? 'unknown');
    }
    throw err;
  }
  if (rows.length === 0) {
    await rejectUnlessAt(tx, a);
    throw new DamselflyError('DF_ERR_INTERNAL', `append to ${a.streamId} inserted nothing although the stream is at ${a.expected}`); // the guard and the check disagree: a bug
  }
  return { version: next, events: rows.map((r) => toStoredEvent(r, engine)) };
}

/** Throws StaleEpoch or VersionConflict if the stream's head (or its shard's lease) does not admit this writer. */
async function rejectUnlessAt(q: SqlQueryable, a: PendingAppend): Promise<void> {
  const [head] = await q.query<StreamHead>(
    `SELECT s.version, s.epoch, (SELECT l.epoch FROM shard_leases l WHERE l.shard = $2::int) AS lease_epoch
     FROM (SELECT $1::text AS stream_id) i LEFT JOIN streams s ON s.stream_id = i.stream_id`,
    [a.streamId, a.shard],
    'damselfly_head',
  );
  checkHead(a.streamId, a.expected, a.epoch, head);
}

/** A stream's head as the guards see it; version and epoch are null for a stream not yet written. */
export interface StreamHead {
  version: number | null;
  epoch: string | number | null;
  /** The epoch of the append's shard lease (null: no shard given, or never leased). */
  lease_epoch?: string | number | null;
}

/** StaleEpoch or VersionConflict if `head` (undefined: no stream yet) does not admit this writer. */
export function checkHead(streamId: string, expected: number, epoch: number, head: StreamHead | undefined): void {
  const current = Math.max(Number(head?.epoch ?? 0), Number(head?.lease_epoch ?? 0));
  if (current > epoch) throw new StaleEpoch(streamId, epoch, current);
  const actual = head?.version ?? 0;
  if (actual !== expected) throw new VersionConflict(streamId, expected, actual);
}

function errorText(err: unknown): string {
  const e = err as { message?: string; detail?: string; constraint?: string };
  return `${e.message ?? ''} ${e.detail ?? ''} ${e.constraint ?? ''}`;
}
