import { CDN_SOURCE } from '../../../core/events/task-events.ts';
import { assignPieces } from '../../../core/scheduling/assign-pieces.ts';
import { mix32 } from '../../../core/scheduling/spread-hash.ts';
import { DEFAULT_POLICY, type SchedulingPolicy } from '../../../core/scheduling/policy.ts';
import type { PeerState, TaskState } from '../../../core/task/task-state.ts';
import { buildState } from './fixtures.ts';

/**
 * A discrete-time swarm driven by assignPieces, for measuring the policy (not the reducer).
 * Every transfer takes exactly one round; a peer uploads at most peerUploadSlots pieces per
 * round, the CDN cdnUploadSlots, and a peer downloads at most downloadSlots at once. Each
 * round: last round's transfers land (PiecesReported ok), then every active peer asks for as
 * many pieces as it has free download slots (PiecesAssigned), in an order shuffled each round
 * (a fixed-seed shuffle: round trips arrive in no particular order, and nobody always asks first). The state changes mirror the event semantics of
 * core/task/task-state.ts; the simulator applies them itself, in place.
 */
export interface SwarmConfig {
  peers: number;
  pieces: number;
  peerUploadSlots: number;
  cdnUploadSlots: number;
  downloadSlots: number;
  /** Peers that finish stop serving instead of staying as seeds (PeerLeft after PeerSucceeded). */
  leaveWhenDone?: boolean;
}

export interface SwarmResult {
  rounds: number;
  cdnServed: number;
  peerServed: number;
  /** The fluid lower bound in rounds: max(P/C, P/d, N·P/(C + N·s)) (Kumar & Ross 2006). */
  lowerBound: number;
  /** Largest number of uploads any peer ran in one round (must never exceed its slots). */
  maxPeerUploads: number;
  maxCdnUploads: number;
}

const ROUND_MS = 1_000;

export function simulateSwarm(cfg: SwarmConfig, maxRounds = 10_000): SwarmResult {
  const policy: SchedulingPolicy = {
    ...DEFAULT_POLICY,
    peerUploadSlots: cfg.peerUploadSlots,
    cdnUploadSlots: cfg.cdnUploadSlots,
    maxAssignmentsPerRound: cfg.downloadSlots,
    pieceTimeoutMs: 10 * ROUND_MS,
  };
  const ids = Array.from({ length: cfg.peers }, (_, i) => `peer-${String(i).padStart(3, '0')}`);
  const state = buildState({ pieceCount: cfg.pieces, peers: ids.map((id) => ({ id })) });
  let peerServed = 0;
  let maxPeerUploads = 0;
  let maxCdnUploads = 0;
  let round = 0;
  while (ids.some((id) => state.peers.get(id)!.status === 'active')) {
    if (++round > maxRounds) throw new Error(`swarm did not complete in ${maxRounds} rounds`);
    const now = round * ROUND_MS;
    for (const id of ids) peerServed += land(state, state.peers.get(id)!, cfg, now);
    for (const id of shuffled(ids, round)) {
      const peer = state.peers.get(id)!;
      if (peer.status !== 'active') continue;
      const want = cfg.downloadSlots - Object.keys(peer.inflight).length;
      for (const c of assignPieces(state, peer.peerId, want, policy, now)) {
        peer.inflight[c.piece] = { source: c.source, deadline: c.deadline };
        state.inflightCount[c.piece]!++;
        if (c.source === CDN_SOURCE) state.cdnUploading++;
        else state.peers.get(c.source)!.uploading++;
      }
      peer.lastSeenAt = now;
    }
    maxCdnUploads = Math.max(maxCdnUploads, state.cdnUploading);
    for (const id of ids) maxPeerUploads = Math.max(maxPeerUploads, state.peers.get(id)!.uploading);
  }
  const { peers: n, pieces: p, cdnUploadSlots: c, peerUploadSlots: s, downloadSlots: d } = cfg;
  const lowerBound = Math.max(p / c, p / d, (n * p) / (c + n * s));
  return { rounds: round - 1, cdnServed: state.cdnServed, peerServed, lowerBound, maxPeerUploads, maxCdnUploads };
}

/** PiecesReported(ok) for every transfer started last round; returns how many came from peers. */
function land(state: TaskState, peer: PeerState, cfg: SwarmConfig, now: number): number {
  let fromPeers = 0;
  for (const [key, entry] of Object.entries(peer.inflight)) {
    const p = Number(key);
    delete peer.inflight[p];
    state.inflightCount[p]!--;
    if (entry.source === CDN_SOURCE) {
      state.cdnUploading--;
      state.cdnServed++;
    } else {
      state.peers.get(entry.source)!.uploading--;
      state.peers.get(entry.source)!.served++;
      fromPeers++;
    }
    if (!peer.have[p]) {
      peer.have[p] = true;
      peer.haveCount++;
      state.availability[p]!++;
    }
  }
  peer.lastSeenAt = now;
  if (peer.status === 'active' && peer.haveCount === cfg.pieces) {
    // PeerSucceeded keeps serving; PeerLeft takes its pieces out of availability.
    peer.status = cfg.leaveWhenDone ? 'left' : 'succeeded';
    if (cfg.leaveWhenDone) peer.have.forEach((h, q) => h && state.availability[q]!--);
  }
  return fromPeers;
}

/** Fisher–Yates driven by an LCG seeded by the round (its output mixed: an LCG’s low bits cycle fast): deterministic, so the test is repeatable. */
function shuffled(ids: string[], seed: number): string[] {
  const out = [...ids];
  let x = (seed * 2654435761) >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const r = mix32(x);
    const j = r % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
