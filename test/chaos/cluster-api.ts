import type { z } from 'zod';
import type { ClusterView } from '../../supernode/http/routes/cluster-routes.ts';

// The cluster API's own schemas (the routes serialise with them): a change of shape fails here
// with a clear message instead of a wrong verdict.
export { ClusterView, TaskOwner } from '../../supernode/http/routes/cluster-routes.ts';

/** One GET with the token and a short timeout: a paused replica must not hang the scenario. */
export async function getJson<T>(url: string, schema: z.ZodType<T>, token: string, timeoutMs = 3000): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`GET ${url}: unexpected body (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}): ${text.slice(0, 300)}`);
  return parsed.data;
}

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
