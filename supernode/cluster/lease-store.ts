import { DamselflyError } from '../../core/errors.ts';

/** A replica as the membership table sees it. Times are the store's clock, for display only. */
export interface ReplicaInfo {
  replicaId: string;
  /** Where other replicas and peers reach it (base URL of its HTTP API). */
  address: string;
  heartbeatAt: Date;
  startedAt: Date;
}

/** A granted lease: the fencing token to put on every append to the shard's task streams. */
export interface LeaseGrant {
  epoch: number;
}

/** A lease a replica believes it holds, as it asks to renew it. */
export interface HeldLease {
  shard: number;
  epoch: number;
}

/** One shard's lease row. `held` is judged by the store's clock: an owner whose lease expired still shows, unheld. */
export interface ShardLease {
  shard: number;
  owner: string | null;
  epoch: number;
  expiresAt: Date | null;
  held: boolean;
}

/**
 * Cluster membership (heartbeats) and shard leases with fencing epochs — the port; adapters:
 * sql-lease-store.ts (PostgreSQL and PGlite) and memory-lease-store.ts. Every operation is one
 * atomic step, so replicas racing for the same shard cannot both win. Expiry is judged by the
 * store's clock alone: replicas pass TTLs, never timestamps.
 *
 * Epochs: every change of owner — and a re-acquire by the same replica after its lease expired —
 * hands out an epoch higher than any epoch handed out before (on any shard); renewing, or
 * acquiring again while the lease is still live, keeps it. The epoch fences appends: a stream
 * refuses an append whose epoch is below the highest that wrote it (StaleEpoch), so a paused
 * former owner cannot write once the new owner has appended (docs/decisions.md, "Cluster").
 */
export interface LeaseStore {
  /** Records that the replica is alive at `address` (creating it on first call). */
  heartbeat(replicaId: string, address: string): Promise<void>;
  /** Removes the replica from the membership (a clean shutdown, so others rebalance at once). */
  leave(replicaId: string): Promise<void>;
  /** Replicas whose last heartbeat is younger than `ttlMs`, ordered by id. */
  liveReplicas(ttlMs: number): Promise<ReplicaInfo[]>;
  /** Takes the shard if it is free, released, expired, or already this replica's; null if another replica holds it. */
  acquire(shard: number, replicaId: string, ttlMs: number): Promise<LeaseGrant | null>;
  /**
   * Extends by `ttlMs` from now each of `held` that this replica still owns with that epoch —
   * also after it expired, as long as nobody took it over meanwhile (nobody else can have
   * written). One step for all of them: a replica renews every shard it holds each round, and
   * a statement per shard was most of the lease traffic. Returns the shards renewed.
   */
  renew(replicaId: string, held: readonly HeldLease[], ttlMs: number): Promise<Set<number>>;
  /** Gives the shard up if still this replica's with this epoch; false (and no change) otherwise. */
  release(shard: number, replicaId: string, epoch: number): Promise<boolean>;
  /** Every shard that has ever been leased, ordered by shard. */
  leases(): Promise<ShardLease[]>;
  close(): Promise<void>;
}

/** The argument checks both adapters make, so they refuse the same calls the same way. */
export function checkShard(shard: number): void {
  if (!Number.isSafeInteger(shard) || shard < 0 || shard > 2_147_483_647) invalid(`shard must be a non-negative int32, got ${shard}`);
}

export function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) invalid(`a TTL must be a positive whole number of milliseconds, got ${ttlMs}`);
}

export function checkReplicaId(replicaId: string): void {
  if (typeof replicaId !== 'string' || replicaId.length === 0 || replicaId.length > 200) invalid('a replica id must be 1-200 characters');
}

export function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) invalid(`an epoch must be a non-negative integer, got ${epoch}`);
}

export function checkHeld(h: HeldLease): void {
  checkShard(h.shard);
  checkEpoch(h.epoch);
}

function invalid(detail: string): never {
  throw new DamselflyError('DF_ERR_VALIDATION', detail);
}
