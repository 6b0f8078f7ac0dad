import type { StoredEvent } from '../../core/events/index.ts';
import { checkHead, type StreamHead } from './append-one.ts';
import type { AppendResult } from './event-store.ts';
import type { Outcome } from './group-commit.ts';
import type { PendingAppend } from './pending-append.ts';
import type { SqlQueryable } from './sql-client.ts';
import { DamselflyError } from '../../core/errors.ts';

/**
 * Every append of a group commit in ONE statement. The group travels as one JSON array
 * (`jsonb_to_recordset`); new streams are created by one `INSERT … ON CONFLICT DO NOTHING`,
 * existing ones advanced by one `UPDATE … WHERE version = expected AND epoch <= mine`; the
 * streams either returned are the appends that passed, and only their events are inserted (in
 * input order, so positions follow it). Under READ COMMITTED a guard that meets a row another
 * transaction has locked waits for it and re-checks the WHERE against the committed row, so of
 * two writers with the same expected version exactly one passes, as with one statement each.
 * The group holds each stream at most once (GroupCommit's key), so no two inputs touch one row.
 */
const GROUP_APPEND = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(n int, stream_id text, expected int, epoch bigint, shard int, events jsonb)
),
-- Appends whose shard lease has been granted to a later epoch: a former owner's, refused.
fenced AS (
  SELECT i.n FROM input i JOIN shard_leases l ON l.shard = i.shard WHERE l.epoch > i.epoch
),
created AS (
  INSERT INTO streams (stream_id, version, epoch)
  SELECT stream_id, jsonb_array_length(events), epoch FROM input
  WHERE expected = 0 AND jsonb_array_length(events) > 0 AND n NOT IN (SELECT n FROM fenced)
  ON CONFLICT (stream_id) DO NOTHING
  RETURNING stream_id
),
advanced AS (
  UPDATE streams s SET version = i.expected + jsonb_array_length(i.events), epoch = i.epoch
  FROM input i
  WHERE s.stream_id = i.stream_id AND i.expected > 0 AND jsonb_array_length(i.events) > 0
    AND s.version = i.expected AND s.epoch <= i.epoch AND i.n NOT IN (SELECT n FROM fenced)
  RETURNING s.stream_id
),
passed AS (SELECT stream_id FROM created UNION ALL SELECT stream_id FROM advanced),
inserted AS (
  INSERT INTO events (stream_id, version, event_id, type, schema_version, data, epoch)
  SELECT i.stream_id, i.expected + e.ord, (e.v->>'eventId')::uuid, e.v->>'type', (e.v->>'schemaVersion')::int, e.v->'data', i.epoch
  FROM input i JOIN passed p ON p.stream_id = i.stream_id, jsonb_array_elements(i.events) WITH ORDINALITY AS e(v, ord)
  ORDER BY i.n, e.ord
  RETURNING position
)
SELECT ARRAY(SELECT stream_id FROM passed) AS passed,
       ARRAY(SELECT position FROM inserted ORDER BY position) AS positions,
       (extract(epoch FROM now()) * 1000)::bigint AS recorded_ms`;

/**
 * The heads of the streams whose appends did not pass, read by a statement of its own: a new
 * snapshot, so it sees what a concurrent writer committed while the guard waited for its lock
 * (the version and epoch the conflict errors report; both only grow, so they still explain it).
 */
const HEADS = `
SELECT i.stream_id, s.version, s.epoch, (SELECT l.epoch FROM shard_leases l WHERE l.shard = i.shard) AS lease_epoch
FROM jsonb_to_recordset($1::jsonb) AS i(stream_id text, shard int) LEFT JOIN streams s ON s.stream_id = i.stream_id`;

type Head = StreamHead & { stream_id: string };

/**
 * Runs the group as one statement outside any transaction block, so it is its own transaction
 * (durable when it returns: synchronous_commit) and costs one round trip. An outcome per append,
 * in order; failures (VersionConflict, StaleEpoch) wrote nothing. Throws only if the statement
 * failed, i.e. committed nothing (a duplicate event id aborts it): the caller then falls back to
 * one append at a time (appendOne). Nothing after the statement may throw: it has committed.
 * A lost connection is the exception: DF_ERR_UNAVAILABLE, and whether it committed is unknown.
 */
export async function appendGroup(q: SqlQueryable, appends: PendingAppend[]): Promise<Outcome<AppendResult>[]> {
  const input = `[${appends.map((a, n) => `{"n":${n},"stream_id":${JSON.stringify(a.streamId)},"expected":${a.expected},"epoch":${a.epoch},"shard":${a.shard},"events":${a.json}}`).join(',')}]`;
  const [row] = await q.query<{ passed: string[]; positions: (string | number)[]; recorded_ms: string | number }>(GROUP_APPEND, [input], 'damselfly_append_group');
  const passed = new Set(row!.passed);
  const positions = row!.positions.map(Number);
  const recordedAt = Number(row!.recorded_ms);
  const expectedCount = appends.reduce((n, a) => n + (passed.has(a.streamId) ? a.events.length : 0), 0);
  // Cannot happen (the statement inserts every event of each passed append), but if it did the
  // positions could not be matched to events: report it rather than hand out wrong ones.
  const miscount = positions.length === expectedCount ? undefined : new DamselflyError('DF_ERR_INTERNAL', `group append committed ${positions.length} events, expected ${expectedCount}`);
  const rejected = appends.filter((a) => !passed.has(a.streamId)).map((a) => ({ stream_id: a.streamId, shard: a.shard }));
  const heads = new Map<string, Head>();
  let headsError: unknown;
  if (rejected.length > 0) {
    try {
      for (const h of await q.query<Head>(HEADS, [JSON.stringify(rejected)], 'damselfly_heads')) heads.set(h.stream_id, h);
    } catch (err) {
      // The others have committed and must be answered so; these wrote nothing, and fail with this.
      headsError = err;
    }
  }
  let next = 0;
  return appends.map((a): Outcome<AppendResult> => {
    if (passed.has(a.streamId)) {
      if (miscount) return { ok: false, error: miscount };
      const at = next;
      next += a.events.length;
      return { ok: true, value: { version: a.expected + a.events.length, events: stored(a, positions.slice(at, next), recordedAt) } };
    }
    if (headsError !== undefined) return { ok: false, error: headsError };
    try {
      checkHead(a.streamId, a.expected, a.epoch, heads.get(a.streamId));
    } catch (error) {
      return { ok: false, error };
    }
    if (a.events.length === 0) return { ok: true, value: { version: a.expected, events: [] } };
    // The guard refused what the head admits: a bug; this append fails, nothing of it was written.
    return { ok: false, error: new DamselflyError('DF_ERR_INTERNAL', `append to ${a.streamId} inserted nothing although the stream is at ${a.expected}`) };
  });
}

/**
 * The stored events without reading them back: exactly what was inserted plus what the database
 * assigned, equal to what readStream returns for them. The events are checkNewEvents' output:
 * objects zod built afresh (no schema field passes a value through by reference), so the
 * caller's objects are not shared and no copy is needed.
 */
function stored(a: PendingAppend, positions: number[], recordedAt: number): StoredEvent[] {
  return a.events.map((e, i) => ({
    ...e,
    streamId: a.streamId,
    version: a.expected + i + 1,
    position: positions[i]!,
    epoch: a.epoch,
    recordedAt,
  }));
}
