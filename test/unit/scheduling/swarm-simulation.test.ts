import { describe, expect, it } from 'vitest';
import { simulateSwarm, type SwarmConfig } from './swarm-simulator.ts';

/**
 * The policy's end-to-end guarantee, measured in a discrete swarm (swarm-simulator.ts): every
 * peer completes, the CDN serves about one copy of each piece (the rest of the file travels
 * peer to peer), and the swarm finishes close to the fluid lower bound
 * max(P/C, P/d, N·P/(C + N·s)). This is what protects the 1.10× distribution-time target.
 */
const BASE: SwarmConfig = { peers: 20, pieces: 256, peerUploadSlots: 4, cdnUploadSlots: 4, downloadSlots: 8 };

describe('swarm simulation', () => {
  it.each([
    ['finished peers keep seeding', BASE],
    ['finished peers leave', { ...BASE, leaveWhenDone: true }],
    ['a CDN slower than a peer', { ...BASE, cdnUploadSlots: 2 }],
  ])('20 peers × 256 pieces (%s): CDN ≤ 1.05 copies, within 1.10× of the lower bound', (_name, cfg) => {
    const r = simulateSwarm(cfg);
    expect(r.maxPeerUploads).toBeLessThanOrEqual(cfg.peerUploadSlots);
    expect(r.maxCdnUploads).toBeLessThanOrEqual(cfg.cdnUploadSlots);
    expect(r.cdnServed + r.peerServed).toBeGreaterThanOrEqual(cfg.peers * cfg.pieces);
    expect(r.cdnServed).toBeLessThanOrEqual(1.05 * cfg.pieces);
    expect(r.rounds / r.lowerBound).toBeLessThanOrEqual(1.1);
  });

  it('100 peers: still one CDN copy, and within 1.25× of the bound (ramp-up is a larger share of a short run)', () => {
    const cfg = { ...BASE, peers: 100, cdnUploadSlots: 8 };
    const r = simulateSwarm(cfg);
    expect(r.cdnServed).toBeLessThanOrEqual(1.05 * cfg.pieces);
    expect(r.rounds / r.lowerBound).toBeLessThanOrEqual(1.25);
  });

  it('a CDN stronger than the peers is used for one copy only: bounded by the peers doing the rest', () => {
    const cfg = { ...BASE, cdnUploadSlots: 16 };
    const r = simulateSwarm(cfg);
    expect(r.cdnServed).toBeLessThanOrEqual(1.05 * cfg.pieces);
    // With one server copy, peers must upload (N-1)·P pieces at N·s per round.
    const oneCopyBound = Math.max(r.lowerBound, ((cfg.peers - 1) * cfg.pieces) / (cfg.peers * cfg.peerUploadSlots));
    expect(r.rounds / oneCopyBound).toBeLessThanOrEqual(1.15);
  });
});
