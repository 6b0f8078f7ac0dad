import { CDN_SOURCE } from '../events/task-events.ts';
import type { PeerState, TaskState } from '../task/task-state.ts';
import type { SchedulingPolicy } from './policy.ts';
import { fnv1a, mix32 } from './spread-hash.ts';

interface Source {
  id: string;
  peer: PeerState;
  /** fnv1a(id), the per-source half of the tie-break hash; computed when first needed (-1 until then). */
  hash: number;
  /** Upload slots in use, including the ones handed out earlier in this same call. */
  load: number;
  /** Of those, the ones serving this requester. */
  mine: number;
}

/**
 * How many of a source's slots one requester may hold at once: an equal share among the active
 * peers, at least one. Without it the first peer to ask takes every free slot of a source
 * (all of the CDN's at the start), so fresh pieces pile up at one peer whose single upload
 * link must then pass them all on, and the number of peers with something to upload grows by
 * one per round instead of multiplying. A real source's bandwidth is shared by its slots
 * anyway, so a requester gains little from holding several of them.
 */
export function fairShare(slots: number, activePeers: number): number {
  return Math.max(1, Math.ceil(slots / Math.max(1, activePeers)));
}

/**
 * Whether `peer` (serving, holding something) may be a source for `requester` at all, slots
 * aside: it has not failed the requester, is not quarantined, and if active has been heard from
 * within peerExpiryMs. Succeeded peers no longer make round trips, so their lastSeenAt says
 * nothing; a dead one is caught by its requesters' failures instead (failedSources, quarantine).
 */
export function mayServe(requester: PeerState, peer: PeerState, policy: SchedulingPolicy, now: number): boolean {
  if ((requester.failedSources[peer.peerId] ?? 0) > 0) return false;
  if (peer.failuresCaused >= policy.quarantineAfterFailures) return false;
  return peer.status !== 'active' || now - peer.lastSeenAt < policy.peerExpiryMs;
}

/**
 * The sources one requester may be given in one scheduling call, and their upload slots.
 * Eligibility that does not depend on the piece (serving, not the requester, mayServe) is
 * decided once, in the constructor (O(peers)). Slots and shares are then counted as they are
 * handed out, so one answer never gives a source more than its free slots.
 */
export class SourcePool {
  private readonly sources: Source[] = [];
  /** Serving peers that hold pieces but may not serve this requester (availability counts them). */
  private readonly excluded: PeerState[] = [];
  private readonly peerSlots: number;
  private readonly peerShare: number;
  /** Sources this requester may still be given a slot of (free slot and share not used up). */
  private freePeers = 0;
  private cdnLoad: number;
  private cdnMine: number;
  private readonly cdnSlots: number;
  private readonly cdnShare: number;
  /**
   * Once every piece is seeded and held by some serving peer, the CDN has no first copies left
   * to send, so its uplink would idle while busy peers queue requesters up: from then on it also
   * serves pieces whose holders are all busy. That is what lets the swarm use the server's
   * capacity to the end (the bound counts u_origin the whole time), and it costs no origin bytes:
   * it serves only pieces it holds (cdnHeld), which after a takeover may be fewer than all.
   */
  private readonly cdnHelpsBusyHolders: boolean;

  constructor(
    private readonly state: TaskState,
    requester: PeerState,
    policy: SchedulingPolicy,
    now: number,
  ) {
    this.peerSlots = policy.peerUploadSlots;
    const mine = new Map<string, number>();
    for (const entry of Object.values(requester.inflight)) mine.set(entry.source, (mine.get(entry.source) ?? 0) + 1);
    let active = 0;
    for (const peer of state.peers.values()) if (peer.status === 'active') active++;
    this.peerShare = fairShare(policy.peerUploadSlots, active);
    for (const peer of state.peers.values()) {
      const id = peer.peerId;
      if (id === requester.peerId || peer.haveCount === 0) continue;
      if (peer.status !== 'active' && peer.status !== 'succeeded') continue;
      if (!mayServe(requester, peer, policy, now)) {
        this.excluded.push(peer);
        continue;
      }
      const source = { id, peer, hash: -1, load: peer.uploading, mine: mine.get(id) ?? 0 };
      this.sources.push(source);
      if (this.usable(source)) this.freePeers++;
    }
    this.cdnLoad = state.cdnUploading;
    this.cdnMine = mine.get(CDN_SOURCE) ?? 0;
    this.cdnShare = fairShare(policy.cdnUploadSlots, active);
    // The CDN is the root of every piece: one failure (often a timeout under load) must not cut a
    // peer off from pieces nobody else holds, so it is dropped only after repeated failures.
    const cdnFailures = requester.failedSources[CDN_SOURCE] ?? 0;
    this.cdnSlots = cdnFailures < policy.quarantineAfterFailures ? policy.cdnUploadSlots : 0;
    this.cdnHelpsBusyHolders = everyPieceInTheSwarm(state);
  }

  /** True when no source has a free slot left: nothing more can be assigned in this call. */
  exhausted(): boolean {
    return this.freePeers === 0 && !this.cdnUsable();
  }

  /**
   * How many eligible peers hold `piece`: availability (all serving holders) less the excluded
   * ones, O(excluded) instead of a scan of every source. It lets a piece with no eligible
   * holder skip the scan, and once every source is full, lets a held piece wait without one:
   * without this, a call in a swarm whose peers are all busy costs O(pieces × peers).
   */
  private eligibleHolders(piece: number): number {
    let held = this.state.availability[piece] ?? 0;
    if (held === 0) return 0;
    for (const peer of this.excluded) if (peer.have[piece]) held--;
    return held;
  }

  private usable(source: Source): boolean {
    return source.load < this.peerSlots && source.mine < this.peerShare;
  }

  private cdnUsable(): boolean {
    return this.cdnLoad < this.cdnSlots && this.cdnMine < this.cdnShare;
  }

  /**
   * The source for `piece` (its slot taken), or null if the piece should wait. The least loaded
   * eligible holder with a free slot, whose fair share this requester has not used up, wins;
   * ties are broken by a hash of (source, piece, requester) so concurrent requesters spread.
   * The CDN is the fallback, and a strict one: only for a piece it holds on its disk now
   * (cdnHeld, not merely one whose digest is known), only when no eligible holder exists and no
   * copy is already on its way into the swarm. While the seed is still spreading, a piece whose
   * holders are merely busy (or already serving this requester its share) waits for a free slot
   * (soon) rather than take the CDN away from first copies; afterwards the CDN helps
   * (cdnHelpsBusyHolders).
   */
  take(piece: number, pieceHash: number): string | null {
    let best: Source | undefined;
    let bestTie = 0;
    let busyHolder = false;
    const held = this.eligibleHolders(piece);
    if (held > 0 && this.freePeers === 0) busyHolder = true;
    else if (held > 0) {
      for (const source of this.sources) {
        if (!source.peer.have[piece]) continue;
        if (!this.usable(source)) {
          busyHolder = true;
          continue;
        }
        if (source.hash < 0) source.hash = fnv1a(source.id);
        const tie = mix32(source.hash ^ pieceHash);
        if (!best || source.load < best.load || (source.load === best.load && (tie < bestTie || (tie === bestTie && source.id < best.id)))) {
          best = source;
          bestTie = tie;
        }
      }
    }
    if (best) {
      best.load++;
      best.mine++;
      if (!this.usable(best)) this.freePeers--;
      return best.id;
    }
    if (busyHolder && !this.cdnHelpsBusyHolders) return null;
    const firstCopyOnItsWay = (this.state.availability[piece] ?? 0) === 0 && (this.state.inflightCount[piece] ?? 0) > 0;
    if (firstCopyOnItsWay || !this.state.cdnHeld[piece] || !this.cdnUsable()) return null;
    this.cdnLoad++;
    this.cdnMine++;
    return CDN_SOURCE;
  }
}

/** Digest known for every piece and a serving holder for each: no first copy is missing anywhere. */
function everyPieceInTheSwarm(state: TaskState): boolean {
  if (state.pieceCount === null || state.seededCount < state.pieceCount) return false;
  for (let p = 0; p < state.pieceCount; p++) if ((state.availability[p] ?? 0) === 0) return false;
  return true;
}
