import { CDN_SOURCE } from '../events/index.ts';
import { MAX_SYNC_DIGESTS, type Parent, type SyncResponse } from '../wire/peer-api.ts';
import type { TaskState } from './task-state.ts';

export interface SyncResponseOptions {
  /** host:port where peers fetch pieces from the CDN. */
  cdnAddress: string;
  /** Retry hint while the piece layout is not known yet (policy.waitRetryMs). */
  waitRetryMs: number;
  /** When the peer syncs next at the latest (policy.syncIntervalMs)… */
  syncIntervalMs: number;
  /** …or later, so that the task's peers make at most this many syncs a second together (policy.syncsPerSecond). */
  syncsPerSecond: number;
  /** The peer parents a peer should have (policy.parentsPerPeer): one with fewer asks again sooner. */
  parentsPerPeer: number;
}

/**
 * The answer to a peer's sync, from the state after its events were committed:
 * - whom it fetches from, with their addresses: its parents, then its children that never
 *   failed it (the link works both ways, so peers that joined early are not cut off from those
 *   that joined later);
 * - the digests it does not know yet: of pieces `knownDigests`, `knownDigests + 1`, … up to the
 *   first one not seeded yet. A peer fetches a piece only once it knows its digest (fixed when
 *   the CDN first seeded it), whoever serves it;
 * - when to sync next: every syncIntervalMs, or less often in a swarm big enough that its
 *   peers would make more than syncsPerSecond syncs together (interval ∝ peers);
 * - the swarm's average progress (swarmAverage).
 */
export function syncResponse(state: TaskState, peerId: string, knownDigests: number, options: SyncResponseOptions): SyncResponse {
  if (state.status === 'failed') return { action: 'failed', reason: state.failure ?? 'failed' };
  const peer = state.peers.get(peerId);
  const { pieceCount, pieceSize, contentLength } = state;
  if (pieceCount === null || pieceSize === null || contentLength === null || !peer) {
    return { action: 'wait', retryAfterMs: options.waitRetryMs };
  }
  if (peer.haveCount === pieceCount || peer.status === 'succeeded') return { action: 'done' };
  const parents: Parent[] = [];
  for (const id of peer.parents) {
    const address = id === CDN_SOURCE ? options.cdnAddress : state.peers.get(id)?.address;
    if (address) parents.push({ peerId: id, address });
  }
  for (const id of peer.children) {
    const child = state.peers.get(id);
    if (child && !peer.parents.includes(id) && !(peer.failedSources[id] ?? 0)) parents.push({ peerId: id, address: child.address });
  }
  const digests: string[] = [];
  const end = Math.min(pieceCount, knownDigests + MAX_SYNC_DIGESTS);
  for (let p = knownDigests; p < end; p++) {
    const info = state.pieces[p];
    if (!info) break;
    digests.push(info.digest);
  }
  // A peer without parents, or with fewer peer parents than parentsPerPeer, asks again soon, not
  // after a whole interval: the window it was chosen from held too few with room, or it joined
  // while the swarm was still forming (its children are named to it at its next sync). In a
  // 2,000-peer swarm one such peer fetched 121 pieces through a single parent for the 19 s
  // until its next sync, and finished 6 s after the rest. A swarm of fewer than parentsPerPeer
  // + 1 peers syncs this often throughout: a few requests a second.
  const interval = Math.max(options.syncIntervalMs, Math.ceil((1000 * state.peers.size) / options.syncsPerSecond));
  const short = parents.length === 0 || peerParents(peer.parents) < options.parentsPerPeer;
  const syncAfterMs = short ? Math.min(interval, Math.ceil(options.syncIntervalMs / 4)) : interval;
  return { action: 'sync', parents, digests, contentLength, pieceSize, pieceCount, syncAfterMs, swarmAverage: swarmAverage(state) };
}

function peerParents(parents: readonly string[]): number {
  let n = 0;
  for (const id of parents) if (id !== CDN_SOURCE) n++;
  return n;
}

/** Pieces held per peer on average: what every serving peer holds (availability) over the peers that ever joined. O(pieces). */
function swarmAverage(state: TaskState): number {
  let held = 0;
  for (const n of state.availability) held += n;
  return Math.round((held / Math.max(1, state.peers.size)) * 100) / 100;
}
