import { describe, expect, it } from 'vitest';
import { quantile, stallAfterKill } from '../../../bench/failover/failover-metrics.ts';

describe('failover metrics', () => {
  it('a peer\'s stall runs from the kill to its first acknowledged round after it; finished peers do not count', () => {
    const kill = 10_000;
    const acks = [
      { peerId: 'a', at: 9_500, ok: 1 },
      { peerId: 'a', at: 12_000, ok: 1 },
      { peerId: 'a', at: 11_500, ok: 2 },
      { peerId: 'b', at: 13_000, ok: 1 },
      { peerId: 'done', at: 10_100, ok: 1 },
    ];
    const s = stallAfterKill(acks, kill, new Set(['done']));
    expect(s.peers).toBe(2);
    expect(s.p50Seconds).toBe(1.5);
    expect(s.maxSeconds).toBe(3);
    expect(s.p99Seconds).toBe(3);
  });

  it('takes nearest-rank quantiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(xs, 0.5)).toBe(50);
    expect(quantile(xs, 0.99)).toBe(99);
    expect(quantile([], 0.99)).toBe(0);
  });
});
