import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { desiredShards } from '../../../core/cluster/desired-shards.ts';

const ids = (n: number, salt: string) => Array.from({ length: n }, (_, i) => `replica-${salt}-${i}`);
function ownerOf(plan: Map<string, number[]>): Map<number, string> {
  const owners = new Map<number, string>();
  for (const [replica, shards] of plan) for (const s of shards) owners.set(s, replica);
  return owners;
}
function moved(a: Map<string, number[]>, b: Map<string, number[]>, shardCount: number): number {
  const [oa, ob] = [ownerOf(a), ownerOf(b)];
  let n = 0;
  for (let s = 0; s < shardCount; s++) if (oa.get(s) !== ob.get(s)) n++;
  return n;
}

describe('desiredShards', () => {
  it('assigns every shard exactly once, each replica floor(S/N) or ceil(S/N) shards', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 400 }), fc.string(), (n, shardCount, salt) => {
      const plan = desiredShards(ids(n, salt), shardCount);
      expect([...plan.keys()].sort()).toEqual(ids(n, salt).sort());
      const all = [...plan.values()].flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: shardCount }, (_, i) => i));
      const loads = [...plan.values()].map((s) => s.length);
      expect(Math.min(...loads)).toBe(Math.floor(shardCount / n));
      expect(Math.max(...loads)).toBe(Math.ceil(shardCount / n));
      for (const shards of plan.values()) expect(shards).toEqual([...shards].sort((a, b) => a - b));
    }));
  });

  it('depends only on the set of replica ids: order and duplicates do not matter', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 128 }), (replicas, shardCount) => {
      const shuffled = [...replicas].reverse().concat(replicas[0]!);
      expect(desiredShards(shuffled, shardCount)).toEqual(desiredShards(replicas, shardCount));
    }));
  });

  // A join and a leave compare the same two plans (N and N+1 replicas), read either way. The
  // minimum any balanced plan must move is the newcomer's share, ceil(S/(N+1)). Bounded loads
  // push a few more along (a replica over its new cap sheds to its next choice, not always the
  // newcomer). The tail is widest with few shards per replica: measured over 100,000 random
  // cases with S = 8(N+1)..8(N+1)+19, at most 2.38x the minimum (median about 1.1x); over
  // 20,000 cases with up to 300 more shards, at most 1.92x. An earlier bound of 2x failed in CI
  // (9 replicas, 72 shards, 17 moved for a minimum of 8), so the bound tested is 3x.
  it('moves at most three times the minimum when a replica joins or leaves', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 300 }), fc.string(), (n, more, salt) => {
      const shardCount = 8 * (n + 1) + more;
      const replicas = ids(n + 1, salt);
      const before = desiredShards(replicas.slice(0, n), shardCount);
      const after = desiredShards(replicas, shardCount);
      const newcomer = after.get(replicas[n]!)!;
      const m = moved(before, after, shardCount);
      expect(m).toBeGreaterThanOrEqual(newcomer.length);
      expect(m).toBeLessThanOrEqual(3 * Math.ceil(shardCount / (n + 1)));
    }));
  });

  it('moves close to the minimum on average at a realistic size (256 shards)', () => {
    let total = 0;
    let minimum = 0;
    for (let n = 2; n <= 9; n++) {
      for (const salt of ['a', 'b', 'c']) {
        const replicas = ids(n + 1, salt);
        total += moved(desiredShards(replicas.slice(0, n), 256), desiredShards(replicas, 256), 256);
        minimum += Math.ceil(256 / (n + 1));
      }
    }
    expect(total / minimum).toBeLessThan(1.35);
  });

  it('gives everything to a lone replica and nothing to nobody', () => {
    expect(desiredShards(['solo'], 5)).toEqual(new Map([['solo', [0, 1, 2, 3, 4]]]));
    expect(desiredShards([], 5)).toEqual(new Map());
    expect(() => desiredShards(['a'], 0)).toThrow(/DF_ERR_VALIDATION/);
  });
});
