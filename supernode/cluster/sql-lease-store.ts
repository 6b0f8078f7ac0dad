import { z } from 'zod';
import type { SqlClient } from '../store/sql-client.ts';
import { checkEpoch, checkHeld, checkReplicaId, checkShard, checkTtl, type HeldLease, type LeaseGrant, type LeaseStore, type ReplicaInfo, type ShardLease } from './lease-store.ts';

// TTLs travel as milliseconds and become intervals in SQL, so the database's clock alone
// decides what is live (migrations/0002_cluster.sql).
const TTL = `($3::float8 * interval '1 millisecond')`;

/**
 * Takes a shard if it is free, released, expired, or already ours; one statement, so two
 * replicas racing cannot both win: ON CONFLICT DO UPDATE locks the row and re-checks the WHERE
 * against the latest committed version (READ COMMITTED), so the loser sees the winner's live
 * lease and updates nothing. A new epoch is drawn from the sequence inside the DO UPDATE, i.e.
 * after the row lock, so it is higher than the epoch of any owner this statement replaces (a
 * value drawn earlier, in VALUES, could predate a takeover-and-release that happened while this
 * statement waited). The VALUES draw only serves a shard's very first lease.
 */
const ACQUIRE = `
  INSERT INTO shard_leases AS l (shard, owner, epoch, expires_at)
  VALUES ($1::int, $2::text, nextval('shard_lease_epochs'), now() + ${TTL})
  ON CONFLICT (shard) DO UPDATE SET
    owner = excluded.owner,
    epoch = CASE WHEN l.owner = excluded.owner AND l.expires_at > now() THEN l.epoch
                 ELSE nextval('shard_lease_epochs') END,
    expires_at = excluded.expires_at
  WHERE l.owner IS NULL OR l.expires_at IS NULL OR l.expires_at <= now() OR l.owner = excluded.owner
  RETURNING epoch::text AS epoch`;

/** Every lease of the batch in one statement (the shards and epochs arrive as two arrays). */
const RENEW = `
  UPDATE shard_leases AS l SET expires_at = now() + ($3::float8 * interval '1 millisecond')
  FROM unnest($1::int[], $2::bigint[]) AS h(shard, epoch)
  WHERE l.shard = h.shard AND l.epoch = h.epoch AND l.owner = $4::text
  RETURNING l.shard`;

const RELEASE = `
  UPDATE shard_leases SET owner = NULL, expires_at = NULL
  WHERE shard = $1::int AND owner = $2::text AND epoch = $3::bigint
  RETURNING shard`;

const HEARTBEAT = `
  INSERT INTO replicas (replica_id, address) VALUES ($1::text, $2::text)
  ON CONFLICT (replica_id) DO UPDATE SET address = excluded.address, heartbeat_at = now()`;

const LIVE_REPLICAS = `
  SELECT replica_id, address, heartbeat_at, started_at FROM replicas
  WHERE heartbeat_at > now() - ($1::float8 * interval '1 millisecond')`;

const LEASES = `
  SELECT shard, owner, epoch::text AS epoch, expires_at,
         (owner IS NOT NULL AND expires_at IS NOT NULL AND expires_at > now()) AS held
  FROM shard_leases ORDER BY shard`;

// Rows read back are validated (the drivers differ: pg returns int8 as text, PGlite as number).
const epochRow = z.object({ epoch: z.coerce.number().int().nonnegative() });
const shardRow = z.object({ shard: z.coerce.number().int() });
const replicaRow = z.object({ replica_id: z.string(), address: z.string(), heartbeat_at: z.coerce.date(), started_at: z.coerce.date() });
const leaseRow = z.object({
  shard: z.coerce.number().int(),
  owner: z.string().nullable(),
  epoch: z.coerce.number().int(),
  expires_at: z.coerce.date().nullable(),
  held: z.boolean(),
});

/**
 * LeaseStore on the SQL surface both PostgreSQL and PGlite implement. It borrows the client
 * (usually the event store's): close() does not close it.
 */
export class SqlLeaseStore implements LeaseStore {
  constructor(private readonly client: SqlClient) {}

  async heartbeat(replicaId: string, address: string): Promise<void> {
    checkReplicaId(replicaId);
    await this.client.query(HEARTBEAT, [replicaId, address], 'df_cluster_heartbeat');
  }

  async leave(replicaId: string): Promise<void> {
    await this.client.query('DELETE FROM replicas WHERE replica_id = $1::text', [replicaId]);
  }

  async liveReplicas(ttlMs: number): Promise<ReplicaInfo[]> {
    checkTtl(ttlMs);
    const rows = await this.client.query(LIVE_REPLICAS, [ttlMs], 'df_cluster_live_replicas');
    return rows
      .map((row) => {
        const r = replicaRow.parse(row);
        return { replicaId: r.replica_id, address: r.address, heartbeatAt: r.heartbeat_at, startedAt: r.started_at };
      })
      // Sorted here, not by ORDER BY: the database's collation need not order ids as JS does.
      .sort((a, b) => (a.replicaId < b.replicaId ? -1 : a.replicaId > b.replicaId ? 1 : 0));
  }

  async acquire(shard: number, replicaId: string, ttlMs: number): Promise<LeaseGrant | null> {
    checkShard(shard);
    checkReplicaId(replicaId);
    checkTtl(ttlMs);
    const [row] = await this.client.query(ACQUIRE, [shard, replicaId, ttlMs], 'df_cluster_acquire');
    return row ? { epoch: epochRow.parse(row).epoch } : null;
  }

  async renew(replicaId: string, held: readonly HeldLease[], ttlMs: number): Promise<Set<number>> {
    checkReplicaId(replicaId);
    checkTtl(ttlMs);
    for (const h of held) checkHeld(h);
    if (held.length === 0) return new Set();
    const shards = held.map((h) => h.shard);
    const epochs = held.map((h) => h.epoch);
    const rows = await this.client.query(RENEW, [shards, epochs, ttlMs, replicaId], 'df_cluster_renew');
    return new Set(rows.map((row) => shardRow.parse(row).shard));
  }

  async release(shard: number, replicaId: string, epoch: number): Promise<boolean> {
    checkShard(shard);
    checkEpoch(epoch);
    return (await this.client.query(RELEASE, [shard, replicaId, epoch], 'df_cluster_release')).length === 1;
  }

  async leases(): Promise<ShardLease[]> {
    return (await this.client.query(LEASES)).map((row) => {
      const r = leaseRow.parse(row);
      return { shard: r.shard, owner: r.owner, epoch: r.epoch, expiresAt: r.expires_at, held: r.held };
    });
  }

  async close(): Promise<void> {}
}
