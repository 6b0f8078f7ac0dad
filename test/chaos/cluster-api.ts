import type { ClusterView } from '../../bench/cluster/cluster-api.ts';

export { ClusterView, getJson, ownerOf, TaskOwner } from '../../bench/cluster/cluster-api.ts';

/**
 * Whether the view shows every shard held by a live replica and the shards spread evenly over
 * the live replicas (each holds floor or ceil of shardCount / live), as core/cluster's
 * desiredShards plans it. Returns a description of what is off, or undefined when balanced.
 */
export function unbalanced(view: ClusterView, expectLive: readonly string[]): string | undefined {
  const live = view.replicas.map((r) => r.replicaId).sort();
  if (live.join(',') !== [...expectLive].sort().join(',')) return `live replicas are ${live.join(',')}, expected ${[...expectLive].sort().join(',')}`;
  const unheld = view.shards.filter((s) => !s.held || !s.owner || !live.includes(s.owner)).map((s) => s.shard);
  if (view.shards.length < view.shardCount || unheld.length > 0) return `${view.shardCount - view.shards.length + unheld.length} shards not held by a live replica`;
  const lo = Math.floor(view.shardCount / live.length);
  const hi = Math.ceil(view.shardCount / live.length);
  const counts = live.map((id) => [id, view.shards.filter((s) => s.owner === id).length] as const);
  const off = counts.filter(([, n]) => n < lo || n > hi);
  return off.length > 0 ? `shard counts ${counts.map(([id, n]) => `${id}:${n}`).join(' ')}, expected ${lo}..${hi} each` : undefined;
}
