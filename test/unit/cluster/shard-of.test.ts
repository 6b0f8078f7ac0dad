import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shardOf } from '../../../core/cluster/shard-of.ts';
import { computeTaskId } from '../../../core/ids/task-id.ts';

describe('shardOf', () => {
  it('reads the shard from the leading hex of the task id, always within range', () => {
    expect(shardOf(`0000000000010${'f'.repeat(51)}`, 16)).toBe(0);
    expect(shardOf(`0000000000011${'0'.repeat(51)}`, 16)).toBe(1);
    expect(shardOf(`00000000000ff${'0'.repeat(51)}`, 256)).toBe(255);
    fc.assert(fc.property(fc.stringMatching(/^[0-9a-f]{64}$/), fc.integer({ min: 1, max: 4096 }), (taskId, n) => {
      const s = shardOf(taskId, n);
      expect(Number.isInteger(s) && s >= 0 && s < n).toBe(true);
      expect(shardOf(taskId, n)).toBe(s);
    }));
  });

  it('spreads real task ids evenly over the shards', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(computeTaskId({ url: `https://origin.example/blob/${i}` }), 16)]!++;
    // 1,000 expected per shard; the standard deviation is about 31, so 850..1150 is ~5 sigma.
    for (const c of counts) expect(c).toBeGreaterThan(850);
    for (const c of counts) expect(c).toBeLessThan(1150);
  });

  it('refuses what is not a task id, and a non-positive shard count', () => {
    expect(() => shardOf('abc', 4)).toThrow(/DF_ERR_VALIDATION/);
    expect(() => shardOf('A'.repeat(64), 4)).toThrow(/DF_ERR_VALIDATION/);
    expect(() => shardOf('a'.repeat(64), 0)).toThrow(/DF_ERR_VALIDATION/);
    expect(() => shardOf('a'.repeat(64), 2.5)).toThrow(/DF_ERR_VALIDATION/);
  });
});
