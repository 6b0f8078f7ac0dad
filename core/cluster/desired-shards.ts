import { createHash } from 'node:crypto';
import { assertShardCount } from './shard-of.ts';

/**
 * Which shards each live replica should hold: rendezvous (highest-random-weight) hashing with
 * bounded loads. Every (replica, shard) pair has a pseudo-random weight; pairs are taken from
 * the heaviest down, and a pair is granted when its shard is still unassigned and its replica
 * still has room. Room is floor(S/N) shards for everyone plus one more for the first S mod N
 * replicas to reach floor(S/N) + 1, so every replica ends with floor(S/N) or ceil(S/N) shards.
 *
 * Why bounded: plain rendezvous moves only the shards a joining replica wins (exactly the
 * minimum), but its loads vary by about sqrt(S/N) — with 64 shards on 3 replicas one replica
 * often holds 30% more than another. Bounding loads costs a little movement: a join or leave
 * moves the minimum plus a few shards pushed on by the new capacity limits (the property
 * tests in test/unit/cluster/desired-shards.test.ts measure and bound it).
 *
 * Pure and deterministic: the same set of replica ids (in any order, duplicates ignored)
 * always yields the same assignment, so every replica computes the same plan without talking.
 * Every replica id is a key of the result, even with no shards; shards are listed ascending.
 */
export function desiredShards(replicaIds: readonly string[], shardCount: number): Map<string, number[]> {
  assertShardCount(shardCount);
  const replicas = [...new Set(replicaIds)].sort();
  const result = new Map<string, number[]>(replicas.map((r) => [r, []]));
  if (replicas.length === 0) return result;

  const pairs: { replica: string; shard: number; weight: number }[] = [];
  for (const replica of replicas) {
    for (let shard = 0; shard < shardCount; shard++) pairs.push({ replica, shard, weight: weightOf(replica, shard) });
  }
  // Ties (a 52-bit collision) fall back to the ids, so the order is total and deterministic.
  pairs.sort((a, b) => b.weight - a.weight || (a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0) || a.shard - b.shard);

  const floor = Math.floor(shardCount / replicas.length);
  let extraLeft = shardCount % replicas.length;
  const assigned = new Uint8Array(shardCount);
  for (const { replica, shard } of pairs) {
    if (assigned[shard]) continue;
    const held = result.get(replica)!;
    if (held.length > floor || (held.length === floor && extraLeft === 0)) continue;
    if (held.length === floor) extraLeft--;
    held.push(shard);
    assigned[shard] = 1;
  }
  for (const held of result.values()) held.sort((a, b) => a - b);
  return result;
}

/** The pair's rendezvous weight: the leading 52 bits of sha256(replica NUL shard). */
function weightOf(replica: string, shard: number): number {
  return parseInt(createHash('sha256').update(`${replica}\0${shard}`).digest('hex').slice(0, 13), 16);
}
