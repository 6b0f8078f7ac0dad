import type { NewEvent, StoredEvent } from '../../core/events/index.ts';

/**
 * The event store port. Three adapters implement it (Postgres, PGlite, in-memory) and all of
 * them pass test/shared/event-store-conformance.ts.
 *
 * Contracts every adapter keeps:
 * - `append` is atomic: all events or none. `expectedVersion` is the stream's current version
 *   (0 for a new stream); anything else fails with VersionConflict (retryable: reload, re-decide).
 * - `epoch` is the writer's fencing token; an append with an epoch lower than the highest epoch
 *   that has written the stream, or (with `shard`) than the shard lease's epoch, fails with
 *   StaleEpoch (not retryable: the writer lost ownership).
 * - `readAll` is gap-free: it never returns an event while an earlier-positioned one may still
 *   commit, so a subscriber that advances its cursor never skips a committed event.
 * - Any call fails with DF_ERR_UNAVAILABLE (retryable, with retryAfterMs) while the database is
 *   unreachable or restarting, and works again, on the same store, once it is back. For
 *   `append` that error means "outcome unknown": the append may have committed (its reply was
 *   lost), so a writer retrying it must expect VersionConflict and reload.
 */
export interface EventStore {
  append(streamId: string, expectedVersion: number, events: NewEvent[], opts: AppendOptions): Promise<AppendResult>;
  /** Events of one stream with version > fromVersion, in version order. */
  readStream(streamId: string, opts?: { fromVersion?: number; limit?: number }): Promise<StoredEvent[]>;
  /** The global, gap-free feed after `cursor`, at most `limit` events. */
  readAll(cursor: GlobalCursor, limit: number): Promise<{ events: StoredEvent[]; cursor: GlobalCursor }>;
  saveSnapshot(snapshot: StreamSnapshot): Promise<void>;
  loadSnapshot(streamId: string): Promise<StreamSnapshot | undefined>;
  /** The stream's current version, 0 if it does not exist. */
  streamVersion(streamId: string): Promise<number>;
  /** Durable named cursors (the Kafka relay's, read models'). */
  loadCursor(name: string): Promise<GlobalCursor>;
  saveCursor(name: string, cursor: GlobalCursor): Promise<void>;
  close(): Promise<void>;
}

export interface AppendOptions {
  epoch: number;
  /**
   * The task's virtual shard (core/cluster/shard-of.ts). When given, the append also fails with
   * StaleEpoch if the shard's lease has since been granted with a higher epoch, checked in the
   * append's own statement: a former owner that has not noticed its lease was taken over (paused,
   * partitioned) cannot write even a stream the new owner has not touched yet.
   */
  shard?: number;
}

export interface AppendResult {
  /** The stream's version after the append. */
  version: number;
  /** The stored events, with versions and positions assigned. */
  events: StoredEvent[];
}

/**
 * A position in the global feed. For Postgres it is (transaction id, position): ordering by the
 * committing transaction's xid8 first is what makes the feed gap-free (see migrations/).
 * Adapters that have no transaction ids use txId 0.
 */
export interface GlobalCursor {
  txId: string;
  position: number;
}
export const START_CURSOR: GlobalCursor = Object.freeze({ txId: '0', position: 0 });

export interface StreamSnapshot {
  streamId: string;
  version: number;
  /** The canonical serialisation of the task state (core/task/canonical.ts). */
  state: unknown;
}
