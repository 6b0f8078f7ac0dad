import { z } from 'zod';
import { TaskParams } from '../../../core/wire/fields.ts';
import type { LeaseStore } from '../../cluster/lease-store.ts';
import type { ShardOwnership } from '../../cluster/shard-ownership.ts';
import { problemResponses } from '../../../edge/http/problem-responses.ts';
import type { App } from '../server.ts';

const security = [{ bearer: [] }];

export const ClusterView = z.object({
  self: z.string(),
  shardCount: z.number().int(),
  leaseTtlMs: z.number().int(),
  replicas: z.array(z.object({ replicaId: z.string(), address: z.string(), heartbeatAt: z.string(), startedAt: z.string(), shards: z.number().int() })),
  shards: z.array(z.object({ shard: z.number().int(), owner: z.string().nullable(), epoch: z.number().int(), expiresAt: z.string().nullable(), held: z.boolean() })),
  /** Events committed to the store and not yet published to Kafka, as this replica's relay last saw. */
  relayLag: z.number().int(),
  /** Tasks this replica keeps a warm copy of (from the Kafka stream). */
  warmCopies: z.number().int(),
});

export type ClusterView = z.infer<typeof ClusterView>;

export type TaskOwner = z.infer<typeof TaskOwner>;
export const TaskOwner = z.object({ taskId: z.string(), shard: z.number().int(), owner: z.string().nullable(), address: z.string().nullable(), epoch: z.number().int() });

/**
 * The operator view of the cluster: live replicas, every shard's lease (owner, epoch, expiry),
 * read fresh from the lease store (any replica answers the same), plus this replica's relay lag.
 */
export function registerClusterRoutes(app: App, o: { leases: LeaseStore; ownership: ShardOwnership; leaseTtlMs: number; relayLag: () => number; warmCopies: () => number }): void {
  app.get('/api/v1/cluster', { schema: { summary: 'Replicas, shard leases and epochs', security, response: { 200: ClusterView, ...problemResponses(401, 503) } } }, async () => {
    const [replicas, leases] = await Promise.all([o.leases.liveReplicas(o.leaseTtlMs), o.leases.leases()]);
    const held = new Map<string, number>();
    for (const l of leases) if (l.held && l.owner) held.set(l.owner, (held.get(l.owner) ?? 0) + 1);
    return {
      self: o.ownership.replicaId,
      shardCount: o.ownership.shardCount,
      leaseTtlMs: o.leaseTtlMs,
      replicas: replicas.map((r) => ({ replicaId: r.replicaId, address: r.address, heartbeatAt: r.heartbeatAt.toISOString(), startedAt: r.startedAt.toISOString(), shards: held.get(r.replicaId) ?? 0 })),
      shards: leases.map((l) => ({ shard: l.shard, owner: l.owner, epoch: l.epoch, expiresAt: l.expiresAt?.toISOString() ?? null, held: l.held })),
      relayLag: o.relayLag(),
      warmCopies: o.warmCopies(),
    };
  });

  app.get('/api/v1/cluster/tasks/:taskId', { schema: { summary: 'Which replica owns a task', security, params: TaskParams, response: { 200: TaskOwner, ...problemResponses(400, 401, 503) } } }, async (req) => {
    const shard = o.ownership.shardOf(req.params.taskId);
    const [replicas, leases] = await Promise.all([o.leases.liveReplicas(o.leaseTtlMs), o.leases.leases()]);
    const lease = leases.find((l) => l.shard === shard);
    const owner = lease?.held ? lease.owner : null;
    return { taskId: req.params.taskId, shard, owner, address: replicas.find((r) => r.replicaId === owner)?.address ?? null, epoch: lease?.epoch ?? 0 };
  });
}
