import type { NewEvent, StoredEvent } from '../../core/events/index.ts';
import { checkNewEvents } from './check-new-events.ts';
import { DuplicateEvent, StaleEpoch, VersionConflict } from './errors.ts';
import type { AppendOptions, AppendResult, EventStore, GlobalCursor, StreamSnapshot } from './event-store.ts';
import { START_CURSOR } from './event-store.ts';

interface Stored {
  event: StoredEvent;
  txId: bigint;
}

/**
 * The in-memory event store, for unit tests: the same contract as SqlEventStore (the shared
 * conformance suite runs both). Each append is one "transaction" with a txId of its own, so
 * cursors look and compare like the SQL ones. Values are copied through JSON on the way in and
 * out, as jsonb would, so a caller mutating an object cannot change what is stored.
 */
export class MemoryEventStore implements EventStore {
  private readonly log: Stored[] = [];
  private readonly streams = new Map<string, { events: StoredEvent[]; epoch: number }>();
  private readonly eventIds = new Set<string>();
  private readonly snapshots = new Map<string, StreamSnapshot>();
  private readonly cursors = new Map<string, GlobalCursor>();
  private lastTx = 0n;

  /**
   * `leaseEpochOf` plays the shard_leases table of the SQL stores (AppendOptions.shard): the
   * epoch the shard's lease was last granted with, e.g. MemoryLeaseStore.epochOf.
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly leaseEpochOf: (shard: number) => number | undefined = () => undefined,
  ) {}

  async append(streamId: string, expectedVersion: number, events: NewEvent[], opts: AppendOptions): Promise<AppendResult> {
    checkNewEvents(streamId, expectedVersion, events, opts.epoch, opts.shard);
    const stream = this.streams.get(streamId);
    const current = Math.max(stream?.epoch ?? 0, opts.shard === undefined ? 0 : (this.leaseEpochOf(opts.shard) ?? 0));
    if (current > opts.epoch) throw new StaleEpoch(streamId, opts.epoch, current);
    const actual = stream?.events.length ?? 0;
    if (actual !== expectedVersion) throw new VersionConflict(streamId, expectedVersion, actual);
    const dup = events.find((e) => this.eventIds.has(e.eventId));
    if (dup) throw new DuplicateEvent(dup.eventId);
    if (events.length === 0) return { version: actual, events: [] };

    const txId = ++this.lastTx;
    const recordedAt = this.now();
    const stored = events.map((e, i): StoredEvent => ({
      ...copy({ eventId: e.eventId, schemaVersion: e.schemaVersion, type: e.type, data: e.data } as NewEvent),
      streamId,
      version: expectedVersion + i + 1,
      position: this.log.length + i + 1,
      epoch: opts.epoch,
      recordedAt,
    }));
    const head = stream ?? { events: [], epoch: opts.epoch };
    head.events.push(...stored);
    head.epoch = opts.epoch;
    this.streams.set(streamId, head);
    for (const e of stored) {
      this.log.push({ event: e, txId });
      this.eventIds.add(e.eventId);
    }
    return { version: expectedVersion + events.length, events: stored.map(copy) };
  }

  async readStream(streamId: string, opts: { fromVersion?: number; limit?: number } = {}): Promise<StoredEvent[]> {
    const from = opts.fromVersion ?? 0;
    const events = this.streams.get(streamId)?.events ?? [];
    return events.slice(from, opts.limit === undefined ? undefined : from + opts.limit).map(copy);
  }

  /** Every append is committed when it returns, so the feed is simply the log in order. */
  async readAll(cursor: GlobalCursor, limit: number): Promise<{ events: StoredEvent[]; cursor: GlobalCursor }> {
    const tx = BigInt(cursor.txId);
    const after = (s: Stored) => s.txId > tx || (s.txId === tx && s.event.position > cursor.position);
    // The log is sorted by (txId, position): binary-search the first entry after the cursor.
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (after(this.log[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    const page = this.log.slice(lo, lo + limit);
    const last = page.at(-1);
    return {
      events: page.map((s) => copy(s.event)),
      cursor: last ? { txId: String(last.txId), position: last.event.position } : cursor,
    };
  }

  async saveSnapshot(snapshot: StreamSnapshot): Promise<void> {
    const held = this.snapshots.get(snapshot.streamId);
    if (!held || held.version < snapshot.version) this.snapshots.set(snapshot.streamId, copy(snapshot));
  }

  async loadSnapshot(streamId: string): Promise<StreamSnapshot | undefined> {
    const held = this.snapshots.get(streamId);
    return held && copy(held);
  }

  async streamVersion(streamId: string): Promise<number> {
    return this.streams.get(streamId)?.events.length ?? 0;
  }

  async loadCursor(name: string): Promise<GlobalCursor> {
    return { ...(this.cursors.get(name) ?? START_CURSOR) };
  }

  async saveCursor(name: string, cursor: GlobalCursor): Promise<void> {
    this.cursors.set(name, { txId: cursor.txId, position: cursor.position });
  }

  async close(): Promise<void> {}
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
