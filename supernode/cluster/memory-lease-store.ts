import { checkEpoch, checkHeld, checkReplicaId, checkShard, checkTtl, type HeldLease, type LeaseGrant, type LeaseStore, type ReplicaInfo, type ShardLease } from './lease-store.ts';

interface LeaseRow {
  owner: string | null;
  epoch: number;
  expiresAt: number | null;
}

/**
 * LeaseStore in one process's memory: for the single-process cluster in tests and the embedded
 * mode. Same rules as the SQL adapter (the conformance suite runs both); each method's state
 * change happens synchronously, so concurrent calls are atomic. `now` is the store's clock.
 */
export class MemoryLeaseStore implements LeaseStore {
  private readonly replicas = new Map<string, { address: string; heartbeatAt: number; startedAt: number }>();
  private readonly rows = new Map<number, LeaseRow>();
  /** The last epoch handed out on any shard (the SQL adapter's sequence). */
  private lastEpoch = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async heartbeat(replicaId: string, address: string): Promise<void> {
    checkReplicaId(replicaId);
    const now = this.now();
    const known = this.replicas.get(replicaId);
    this.replicas.set(replicaId, { address, heartbeatAt: now, startedAt: known?.startedAt ?? now });
  }

  async leave(replicaId: string): Promise<void> {
    this.replicas.delete(replicaId);
  }

  async liveReplicas(ttlMs: number): Promise<ReplicaInfo[]> {
    checkTtl(ttlMs);
    const since = this.now() - ttlMs;
    return [...this.replicas]
      .filter(([, r]) => r.heartbeatAt > since)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([replicaId, r]) => ({ replicaId, address: r.address, heartbeatAt: new Date(r.heartbeatAt), startedAt: new Date(r.startedAt) }));
  }

  async acquire(shard: number, replicaId: string, ttlMs: number): Promise<LeaseGrant | null> {
    checkShard(shard);
    checkReplicaId(replicaId);
    checkTtl(ttlMs);
    const now = this.now();
    const row = this.rows.get(shard);
    const live = row !== undefined && this.isLive(row, now);
    if (live && row.owner !== replicaId) return null;
    const epoch = live ? row.epoch : ++this.lastEpoch;
    this.rows.set(shard, { owner: replicaId, epoch, expiresAt: now + ttlMs });
    return { epoch };
  }

  /** The epoch the shard's lease was last granted with (what MemoryEventStore fences appends by). */
  epochOf(shard: number): number | undefined {
    return this.rows.get(shard)?.epoch;
  }

  async renew(replicaId: string, held: readonly HeldLease[], ttlMs: number): Promise<Set<number>> {
    checkReplicaId(replicaId);
    checkTtl(ttlMs);
    for (const h of held) checkHeld(h);
    const renewed = new Set<number>();
    for (const { shard, epoch } of held) {
      const row = this.rows.get(shard);
      if (!row || row.owner !== replicaId || row.epoch !== epoch) continue;
      row.expiresAt = this.now() + ttlMs;
      renewed.add(shard);
    }
    return renewed;
  }

  async release(shard: number, replicaId: string, epoch: number): Promise<boolean> {
    checkShard(shard);
    checkEpoch(epoch);
    const row = this.rows.get(shard);
    if (!row || row.owner !== replicaId || row.epoch !== epoch) return false;
    row.owner = null;
    row.expiresAt = null;
    return true;
  }

  async leases(): Promise<ShardLease[]> {
    const now = this.now();
    return [...this.rows]
      .sort(([a], [b]) => a - b)
      .map(([shard, r]) => ({
        shard,
        owner: r.owner,
        epoch: r.epoch,
        expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt),
        held: this.isLive(r, now),
      }));
  }

  async close(): Promise<void> {}

  private isLive(row: LeaseRow, now: number): boolean {
    return row.owner !== null && row.expiresAt !== null && row.expiresAt > now;
  }
}
