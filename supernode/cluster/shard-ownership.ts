import { desiredShards, shardOf } from '../../core/cluster/index.ts';
import type { Logger } from '../../edge/log/logger.ts';
import type { LeaseStore, ReplicaInfo, ShardLease } from './lease-store.ts';

export interface ShardOwnershipOptions {
  leases: LeaseStore;
  replicaId: string;
  /** host:port where other replicas and peers reach this one (stored with the heartbeat; known once listening). */
  address: () => string;
  shardCount: number;
  /** How long a granted or renewed lease lasts (the database's clock). */
  leaseTtlMs: number;
  /** How often the loop heartbeats, renews, releases and acquires (about a third of the TTL). */
  tickMs: number;
  logger: Logger;
  /** A shard was granted to this replica with this epoch (a takeover: catch its tasks up). */
  onAcquired: (shard: number, epoch: number) => void;
  /**
   * This replica is about to give the shard up (rebalancing) or has lost it (a failed renew, a
   * StaleEpoch): forget its tasks' live state. Awaited before a voluntary release, so that no
   * append of the old term is still in flight when the next owner starts.
   */
  onLost: (shard: number) => Promise<void> | void;
  /** Monotonic milliseconds (performance.now), for the local validity of leases. */
  now?: () => number;
  /**
   * No other replica can exist (the embedded store: PGlite is one process's database), so a
   * lease never lapses locally — a CPU-starved or busy store delaying a renewal must not make
   * the only replica refuse its own tasks.
   */
  alone?: boolean;
}

/** A lease this replica holds: its fencing epoch and when (locally) it was last confirmed. */
interface HeldShard {
  epoch: number;
  /** Local time at which the last successful acquire/renew was *sent*: the lease runs at least TTL from then. */
  confirmedAt: number;
}

export interface OwnershipClaim {
  shard: number;
  epoch: number;
  replicaId: string;
}

/**
 * This replica's side of the shard leases: one loop that heartbeats, reads the live replicas,
 * computes the same placement every replica computes (desiredShards), renews the leases it
 * should keep, releases the ones that now belong to someone else, and acquires the ones it
 * should have as soon as they are free or expired. Writes are fenced by the epochs in the
 * store, so this loop only decides liveness, never safety (docs/decisions.md, "Cluster").
 *
 * A lease counts as held locally only until TTL minus a margin after the renew that confirmed
 * it was sent: a replica paused past its lease (GC, SIGSTOP) stops serving the moment it runs
 * again, before its loop has even noticed, and peers move on to the new owner.
 */
export class ShardOwnership {
  private readonly held = new Map<number, HeldShard>();
  private view: { replicas: ReplicaInfo[]; leases: ShardLease[] } = { replicas: [], leases: [] };
  private readonly owners = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private failing = false;
  private readonly now: () => number;

  constructor(private readonly o: ShardOwnershipOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  get replicaId(): string {
    return this.o.replicaId;
  }

  get shardCount(): number {
    return this.o.shardCount;
  }

  /** Runs the first round (so a lone replica holds its shards before it serves), then the loop. */
  async start(): Promise<void> {
    await this.tick();
    this.schedule();
  }

  /** Clean shutdown: gives every shard back and leaves the membership, so others take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    for (const [shard, h] of [...this.held]) {
      this.held.delete(shard);
      await this.o.onLost(shard);
      await this.o.leases.release(shard, this.o.replicaId, h.epoch).catch(() => undefined); // expires by itself
    }
    await this.o.leases.leave(this.o.replicaId).catch(() => undefined); // its heartbeat goes stale anyway
  }

  shardOf(taskId: string): number {
    return shardOf(taskId, this.o.shardCount);
  }

  /** The fencing epoch to write this task with, or undefined if this replica does not hold its shard now. */
  claim(taskId: string): OwnershipClaim | undefined {
    const shard = this.shardOf(taskId);
    const h = this.held.get(shard);
    if (!h || !this.valid(h)) return undefined;
    return { shard, epoch: h.epoch, replicaId: this.o.replicaId };
  }

  /** Whether this replica holds `shard` now (e.g. shard 0: the one that runs the cluster's relay). */
  holds(shard: number): boolean {
    const h = this.held.get(shard);
    return h !== undefined && this.valid(h);
  }

  /** The address of the replica that holds the task's shard, as last seen (undefined: nobody, or unknown). */
  ownerAddressOf(taskId: string): string | undefined {
    const owner = this.owners.get(this.shardOf(taskId));
    return owner === undefined ? undefined : this.view.replicas.find((r) => r.replicaId === owner)?.address;
  }

  /** Drops a shard at once: an append met a later epoch, so someone else holds it now. */
  lost(shard: number): void {
    if (!this.held.delete(shard)) return;
    this.o.logger.warn({ shard }, 'lost a shard to a later epoch; stepping down');
    void this.o.onLost(shard);
  }

  /** What the operator view shows: the last membership and lease rows read, and what is held here. */
  status(): { replicas: ReplicaInfo[]; leases: ShardLease[]; held: { shard: number; epoch: number; valid: boolean }[] } {
    return {
      replicas: this.view.replicas,
      leases: this.view.leases,
      held: [...this.held].map(([shard, h]) => ({ shard, epoch: h.epoch, valid: this.valid(h) })).sort((a, b) => a.shard - b.shard),
    };
  }

  private valid(h: HeldShard): boolean {
    if (this.o.alone) return true;
    // A quarter of the TTL as margin: the renew's round trip and timer jitter fit in it.
    return this.now() - h.confirmedAt < this.o.leaseTtlMs * 0.75;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => this.schedule());
    }, this.o.tickMs);
  }

  /** One round. A store error skips the rest of the round; local validity runs out on its own. */
  async tick(): Promise<void> {
    const { leases, replicaId, leaseTtlMs, logger } = this.o;
    try {
      await leases.heartbeat(replicaId, this.o.address());
      const [replicas, rows] = await Promise.all([leases.liveReplicas(leaseTtlMs), leases.leases()]);
      this.view = { replicas, leases: rows };
      this.owners.clear();
      for (const l of rows) if (l.held && l.owner) this.owners.set(l.shard, l.owner);
      const live = replicas.map((r) => r.replicaId);
      if (!live.includes(replicaId)) live.push(replicaId);
      const mine = new Set(desiredShards(live, this.o.shardCount).get(replicaId));
      await this.renewOrRelease(mine);
      await this.acquireMissing(mine);
      if (this.failing) logger.info('the lease store answers again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) logger.warn({ err: (err as Error).message }, 'shard lease round failed; retrying');
      this.failing = true;
    }
  }

  private async renewOrRelease(mine: Set<number>): Promise<void> {
    const { leases, replicaId, leaseTtlMs, logger } = this.o;
    const keep = [...this.held].filter(([shard]) => mine.has(shard));
    const handOver = [...this.held].filter(([shard]) => !mine.has(shard));
    const renewAll = async () => {
      if (keep.length === 0) return;
      const sentAt = this.now();
      const renewed = await leases.renew(replicaId, keep.map(([shard, h]) => ({ shard, epoch: h.epoch })), leaseTtlMs);
      for (const [shard, h] of keep) {
        if (this.held.get(shard) !== h) continue; // dropped meanwhile (a StaleEpoch)
        if (renewed.has(shard)) h.confirmedAt = sentAt;
        else this.lost(shard);
      }
    };
    await Promise.all([
      renewAll(),
      ...handOver.map(async ([shard, h]) => {
        // Rebalancing: hand the shard over. Stop serving it first, so that the next owner's
        // term cannot meet an append of ours still in flight; then release it at once
        // rather than let it expire.
        this.held.delete(shard);
        await this.o.onLost(shard);
        await leases.release(shard, replicaId, h.epoch);
        this.owners.delete(shard);
        logger.info({ shard, epoch: h.epoch }, 'released a shard (rebalancing)');
      }),
    ]);
  }

  private async acquireMissing(mine: Set<number>): Promise<void> {
    const { leases, replicaId, leaseTtlMs, logger } = this.o;
    const wanted = [...mine].filter((s) => !this.held.has(s));
    const acquired: string[] = [];
    await Promise.all(
      wanted.map(async (shard) => {
        const sentAt = this.now();
        const grant = await leases.acquire(shard, replicaId, leaseTtlMs);
        if (!grant || this.stopped) return; // still held by its previous owner: next round
        this.held.set(shard, { epoch: grant.epoch, confirmedAt: sentAt });
        this.owners.set(shard, replicaId);
        acquired.push(`${shard}@${grant.epoch}`);
        this.o.onAcquired(shard, grant.epoch);
      }),
    );
    if (acquired.length > 0) logger.info({ shards: acquired.join(' ') }, `acquired ${acquired.length} shard(s) (shard@epoch)`);
  }
}
