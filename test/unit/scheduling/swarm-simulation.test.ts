import { describe, expect, it } from 'vitest';
import { simulateSwarm, type SwarmConfig } from './swarm-simulator.ts';

/**
 * The policy's end-to-end guarantee, measured in a discrete swarm (swarm-simulator.ts): every
 * peer completes, and the swarm finishes close to the fluid lower bound
 * max(P/C, P/d, N·P/(C + N·s)). This is what protects the 1.10× distribution-time target.
 * The CDN sends first copies until every piece is in the swarm, and only then relieves busy
 * holders: the bound counts the server's capacity for the whole run, and the CDN's extra
 * copies cost no origin bytes (it fetched the file once).
 */
const BASE: SwarmConfig = { peers: 20, pieces: 256, peerUploadSlots: 4, cdnUploadSlots: 4, downloadSlots: 8 };

describe('swarm simulation', () => {
  it.each([
    ['finished peers keep seeding', BASE],
    ['finished peers leave', { ...BASE, leaveWhenDone: true }],
    ['a CDN slower than a peer', { ...BASE, cdnUploadSlots: 2 }],
  ])('20 peers × 256 pieces (%s): within 1.10× of the lower bound', (_name, cfg) => {
    const r = simulateSwarm(cfg);
    expect(r.maxPeerUploads).toBeLessThanOrEqual(cfg.peerUploadSlots);
    expect(r.maxCdnUploads).toBeLessThanOrEqual(cfg.cdnUploadSlots);
    expect(r.cdnServed + r.peerServed).toBeGreaterThanOrEqual(cfg.peers * cfg.pieces);
    expect(r.rounds / r.lowerBound).toBeLessThanOrEqual(1.1);
  });

  it('100 peers: within 1.25× of the bound (ramp-up is a larger share of a short run)', () => {
    const r = simulateSwarm({ ...BASE, peers: 100, cdnUploadSlots: 8 });
    expect(r.rounds / r.lowerBound).toBeLessThanOrEqual(1.25);
  });

  it('a CDN stronger than the peers keeps its uplink busy: within 1.15× of the bound', () => {
    const r = simulateSwarm({ ...BASE, cdnUploadSlots: 16 });
    // 1.26× when the CDN sent one copy only; the rest is the ramp-up of a short run.
    expect(r.rounds / r.lowerBound).toBeLessThanOrEqual(1.15);
  });
});
