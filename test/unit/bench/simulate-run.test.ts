import { describe, expect, it } from 'vitest';
import { SimulatedSwarm, SwarmMember } from '../../../bench/control-plane/simulated-swarm.ts';
import { mulberry32 } from '../../../bench/seeded-random.ts';
import { runSimulation } from '../../../bench/simulate/simulate-run.ts';
import { VirtualClock } from '../../../bench/simulate/virtual-clock.ts';

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

describe('SwarmMember reports', () => {
  it('reports each landed piece once with its source, and puts back those a failed sync did not deliver, first', () => {
    const clock = new VirtualClock();
    const swarm = new SimulatedSwarm(8, 4, 8);
    const parent = swarm.add('parent');
    for (let p = 0; p < 8; p++) parent.have[p] = 1;
    parent.haveCount = 8;
    const member = new SwarmMember(swarm, 'child', { parallelism: 2, pieceMs: 250, clock, random: mulberry32(3), onComplete: () => undefined, onStarved: () => undefined });
    member.update(['parent', 'cdn'], 8, 0);
    clock.run(() => member.complete);
    const first = member.takeReports();
    expect(first.flatMap((r) => r.pieces).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(first.every((r) => ['parent', 'cdn'].includes(r.source) && r.ms.length === r.pieces.length && r.ms.every((ms) => ms === 250))).toBe(true);
    expect(member.takeReports()).toEqual([]);
    member.putBack(first.slice(0, 3));
    member.putBack(first.slice(3));
    expect(member.takeReports()).toEqual([...first.slice(3), ...first.slice(0, 3)]);
  });
});
