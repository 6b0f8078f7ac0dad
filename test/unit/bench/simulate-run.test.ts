import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../../bench/simulate/simulate-run.ts';

/** The virtual-time swarm that `bench simulate` runs: the real core policy, simulated peers on the sync protocol. */
describe('runSimulation', () => {
  const small = { peers: 60, pieceCount: 32, pieceMs: 250, parallelism: 6 };

  it('finishes every peer with every piece, near the link bound, with far fewer requests than transfers', () => {
    const r = runSimulation(small);
    expect(r.transfers).toBe(60 * 32);
    expect(r.seconds).toBeGreaterThanOrEqual(r.linkBoundSeconds);
    // A short file makes the ramp from the CDN a large share of the run; the 1.3 of issue 14
    // is for 256 pieces (docs/benchmarks.md). Twice the bound would mean the policy broke.
    expect(r.seconds / r.linkBoundSeconds).toBeLessThan(2);
    // Per peer: the first sync (which joins), the one that completes it, and a few between —
    // never one per piece, which is what the sync protocol is for.
    expect(r.requests).toBeGreaterThanOrEqual(2 * small.peers);
    expect(r.requests).toBeLessThan(r.transfers / 4);
    expect(r.cdnTransfers).toBeGreaterThanOrEqual(small.pieceCount);
  });

  it('gives the same run for the same seed', () => {
    const a = runSimulation({ ...small, seed: 7 });
    const b = runSimulation({ ...small, seed: 7 });
    expect({ ...a, decideMs: 0 }).toEqual({ ...b, decideMs: 0 });
  });
});
