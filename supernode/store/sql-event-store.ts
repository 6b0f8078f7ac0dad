import type { NewEvent, StoredEvent } from '../../core/events/index.ts';
import { checkNewEvents } from './check-new-events.ts';
import { DuplicateEvent, StaleEpoch, VersionConflict } from './errors.ts';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './event-row.ts';
import type { AppendOptions, AppendResult, EventStore, GlobalCursor, StreamSnapshot } from './event-store.ts';
import { START_CURSOR } from './event-store.ts';
import { GroupCommit } from './group-commit.ts';
import { sqlState, type SqlClient, type SqlQueryable } from './sql-client.ts';
import type { StoreMetrics } from './store-metrics.ts';

export interface SqlEventStoreOptions {
  /** Most appends per group-commit transaction (default 64, see group-commit.ts). */
  maxBatch?: number;
  metrics?: StoreMetrics;
}

/**
 * The event store on SQL: one implementation for PostgreSQL and PGlite (through SqlClient).
 * Schema: migrations/0001_event_store.sql. Appends go through group commit.
 */
export class SqlEventStore implements EventStore {
  private readonly commits: GroupCommit;
  private closed = false;

  constructor(
    private readonly client: SqlClient,
    private readonly opts: SqlEventStoreOptions = {},
  ) {
    this.commits = new GroupCommit(client, {
      maxBatch: opts.maxBatch ?? 64,
      metrics: opts.metrics,
      // Raised by appendIn after a guarded statement matched nothing: nothing written, no SQL error.
      leavesTxIntact: (err) => err instanceof VersionConflict || err instanceof StaleEpoch,
    });
  }

  async append(streamId: string, expectedVersion: number, events: NewEvent[], opts: AppendOptions): Promise<AppendResult> {
    if (this.closed) throw new Error('event store is closed');
    checkNewEvents(streamId, expectedVersion, events, opts.epoch);
    const started = performance.now();
    let ok = false;
    try {
      const result = await this.commits.run(events.length, (tx) => this.appendIn(tx, streamId, expectedVersion, events, opts.epoch));
      ok = true;
      return result;
    } finally {
      this.opts.metrics?.onAppend?.({ events: events.length, seconds: (performance.now() - started) / 1000, ok });
    }
  }

  /**
   * One append inside the group's transaction. The head row in `streams` is the guard: for a new
   * stream an INSERT that does nothing if the row exists, else an UPDATE whose WHERE checks the
   * version and epoch. Under READ COMMITTED a concurrent writer's UPDATE waits on the row lock
   * and then re-checks the WHERE against the committed row, so of two writers with the same
   * expected version exactly one matches. The events are inserted by the same statement, only
   * if the guard returned a row (one multi-row INSERT from a JSON array, one round trip).
   */
  private async appendIn(tx: SqlQueryable, streamId: string, expected: number, events: NewEvent[], epoch: number): Promise<AppendResult> {
    if (events.length === 0) {
      await this.rejectUnlessAt(tx, streamId, expected, epoch);
      return { version: expected, events: [] };
    }
    const next = expected + events.length;
    const guard = expected === 0
      ? 'INSERT INTO streams (stream_id, version, epoch) VALUES ($1, $3, $4) ON CONFLICT (stream_id) DO NOTHING RETURNING version'
      : 'UPDATE streams SET version = $3, epoch = $4 WHERE stream_id = $1 AND version = $2 AND epoch <= $4 RETURNING version';
    const body = JSON.stringify(events.map(({ eventId, type, schemaVersion, data }) => ({ eventId, type, schemaVersion, data })));
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
        [streamId, expected, next, epoch, body],
        expected === 0 ? 'damselfly_append_new' : 'damselfly_append',
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
      await this.rejectUnlessAt(tx, streamId, expected, epoch);
      throw new Error(`append to ${streamId} inserted nothing although the stream is at ${expected}`); // the guard and the check disagree: a bug
    }
    return { version: next, events: rows.map((r) => toStoredEvent(r, this.client.engine)) };
  }

  /** Throws StaleEpoch or VersionConflict if the stream's head does not admit this writer. */
  private async rejectUnlessAt(q: SqlQueryable, streamId: string, expected: number, epoch: number): Promise<void> {
    const [head] = await q.query<{ version: number; epoch: string | number }>('SELECT version, epoch FROM streams WHERE stream_id = $1', [streamId], 'damselfly_head');
    const current = head ? Number(head.epoch) : 0;
    if (current > epoch) throw new StaleEpoch(streamId, epoch, current);
    const actual = head?.version ?? 0;
    if (actual !== expected) throw new VersionConflict(streamId, expected, actual);
  }

  async readStream(streamId: string, opts: { fromVersion?: number; limit?: number } = {}): Promise<StoredEvent[]> {
    const rows = await this.client.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version LIMIT $3`,
      [streamId, opts.fromVersion ?? 0, opts.limit ?? null],
      'damselfly_read_stream',
    );
    return rows.map((r) => toStoredEvent(r, this.client.engine));
  }

  /**
   * The gap-free global feed. Positions come from a sequence at insert time, but transactions
   * commit in any order: a transaction holding position 5 may commit after one holding 7, so a
   * reader paging by position alone would pass 7, never look back, and lose 5. Instead the
   * feed is ordered by the inserting transaction's id first, and only transactions older than
   * the oldest one still running (pg_snapshot_xmin of the current snapshot) are read: every
   * transaction that can still commit has a tx_id >= that bound, so it will sort after the
   * cursor. The cost is latency (a long transaction holds the feed back), never a gap.
   * PGlite is PostgreSQL with one connection; the same query is exact there too.
   */
  async readAll(cursor: GlobalCursor, limit: number): Promise<{ events: StoredEvent[]; cursor: GlobalCursor }> {
    const rows = await this.client.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE (tx_id, position) > ($1::xid8, $2) AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY tx_id, position LIMIT $3`,
      [cursor.txId, cursor.position, limit],
      'damselfly_read_all',
    );
    const events = rows.map((r) => toStoredEvent(r, this.client.engine));
    const last = rows.at(-1);
    return { events, cursor: last ? { txId: last.tx_id, position: Number(last.position) } : cursor };
  }

  async saveSnapshot(snapshot: StreamSnapshot): Promise<void> {
    await this.client.query(
      `INSERT INTO snapshots (stream_id, version, state) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state
       WHERE snapshots.version < EXCLUDED.version`,
      [snapshot.streamId, snapshot.version, JSON.stringify(snapshot.state)],
    );
  }

  async loadSnapshot(streamId: string): Promise<StreamSnapshot | undefined> {
    const [row] = await this.client.query<{ version: number; state: unknown }>('SELECT version, state FROM snapshots WHERE stream_id = $1', [streamId]);
    return row ? { streamId, version: row.version, state: row.state } : undefined;
  }

  async streamVersion(streamId: string): Promise<number> {
    const [row] = await this.client.query<{ version: number }>('SELECT version FROM streams WHERE stream_id = $1', [streamId], 'damselfly_version');
    return row?.version ?? 0;
  }

  async loadCursor(name: string): Promise<GlobalCursor> {
    const [row] = await this.client.query<{ tx_id: string; position: string | number }>('SELECT tx_id::text AS tx_id, position FROM cursors WHERE name = $1', [name]);
    return row ? { txId: row.tx_id, position: Number(row.position) } : START_CURSOR;
  }

  async saveCursor(name: string, cursor: GlobalCursor): Promise<void> {
    await this.client.query(
      `INSERT INTO cursors (name, tx_id, position) VALUES ($1, $2::xid8, $3)
       ON CONFLICT (name) DO UPDATE SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position`,
      [name, cursor.txId, cursor.position],
    );
  }

  /** Waits for appends in flight, then closes the connection(s). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commits.idle();
    await this.client.close();
  }
}

function errorText(err: unknown): string {
  const e = err as { message?: string; detail?: string; constraint?: string };
  return `${e.message ?? ''} ${e.detail ?? ''} ${e.constraint ?? ''}`;
}
