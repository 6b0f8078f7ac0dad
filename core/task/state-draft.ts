import type { PeerState, TaskState } from './task-state.ts';

/**
 * Copy-on-write access to a TaskState while one event is applied. Snapshots must stay
 * immutable (a failed append falls back to the previous state; decide() evolves hypothetical
 * states), but a deep copy per event would cost O(task). A draft copies each container at most
 * once per event and only when it is written: the peers map, the touched peers, their
 * `have`/`inflight`/`failedSources`, and the per-piece arrays.
 *
 * An `owned` draft writes in place instead: replay() folds a long run of events over a state
 * that nobody else can see yet, where every copy would be wasted work.
 */
export class StateDraft {
  readonly state: TaskState;
  private peersCopied: boolean;
  private readonly copiedPeers = new Set<string>();
  private readonly copiedHave = new Set<string>();
  private readonly copiedInflight = new Set<string>();
  private readonly copiedFailed = new Set<string>();
  // Not marked by putPeer: a re-joined peer keeps its predecessor's array (assignedFrom).
  private readonly copiedAssignedFrom = new Set<string>();
  private availabilityCopied: boolean;
  private inflightCountCopied: boolean;
  private piecesCopied: boolean;
  private cdnHeldCopied: boolean;
  private peerOrderCopied: boolean;

  constructor(
    base: TaskState,
    private readonly owned = false,
  ) {
    this.state = owned ? base : { ...base };
    this.peersCopied = this.availabilityCopied = this.inflightCountCopied = this.piecesCopied = this.cdnHeldCopied = this.peerOrderCopied = owned;
  }

  /** The peer, copied for writing (undefined if it never joined). */
  peer(peerId: string): PeerState | undefined {
    const current = this.state.peers.get(peerId);
    if (!current || this.owned || this.copiedPeers.has(peerId)) return current;
    this.copyPeers();
    const copy = { ...current };
    this.state.peers.set(peerId, copy);
    this.copiedPeers.add(peerId);
    return copy;
  }

  /** Adds or replaces a whole peer (a new object, so its parts need no copying). */
  putPeer(peer: PeerState): void {
    this.copyPeers();
    this.state.peers.set(peer.peerId, peer);
    if (this.owned) return;
    this.copiedPeers.add(peer.peerId);
    this.copiedHave.add(peer.peerId);
    this.copiedInflight.add(peer.peerId);
    this.copiedFailed.add(peer.peerId);
  }

  /** The `have` array of a peer obtained from peer(), copied for writing. */
  have(peer: PeerState): boolean[] {
    if (!this.owned && !this.copiedHave.has(peer.peerId)) {
      this.copiedHave.add(peer.peerId);
      peer.have = peer.have.slice();
    }
    return peer.have;
  }

  inflight(peer: PeerState): PeerState['inflight'] {
    if (!this.owned && !this.copiedInflight.has(peer.peerId)) {
      this.copiedInflight.add(peer.peerId);
      peer.inflight = { ...peer.inflight };
    }
    return peer.inflight;
  }

  assignedFrom(peer: PeerState): PeerState['assignedFrom'] {
    if (!this.owned && !this.copiedAssignedFrom.has(peer.peerId)) {
      this.copiedAssignedFrom.add(peer.peerId);
      peer.assignedFrom = peer.assignedFrom.slice();
    }
    return peer.assignedFrom;
  }

  failedSources(peer: PeerState): PeerState['failedSources'] {
    if (!this.owned && !this.copiedFailed.has(peer.peerId)) {
      this.copiedFailed.add(peer.peerId);
      peer.failedSources = { ...peer.failedSources };
    }
    return peer.failedSources;
  }

  availability(): number[] {
    if (!this.availabilityCopied) {
      this.availabilityCopied = true;
      this.state.availability = this.state.availability.slice();
    }
    return this.state.availability;
  }

  inflightCount(): number[] {
    if (!this.inflightCountCopied) {
      this.inflightCountCopied = true;
      this.state.inflightCount = this.state.inflightCount.slice();
    }
    return this.state.inflightCount;
  }

  pieces(): TaskState['pieces'] {
    if (!this.piecesCopied) {
      this.piecesCopied = true;
      this.state.pieces = this.state.pieces.slice();
    }
    return this.state.pieces;
  }

  cdnHeld(): boolean[] {
    if (!this.cdnHeldCopied) {
      this.cdnHeldCopied = true;
      this.state.cdnHeld = this.state.cdnHeld.slice();
    }
    return this.state.cdnHeld;
  }

  peerOrder(): string[] {
    if (!this.peerOrderCopied) {
      this.peerOrderCopied = true;
      this.state.peerOrder = this.state.peerOrder.slice();
    }
    return this.state.peerOrder;
  }

  private copyPeers(): void {
    if (this.peersCopied) return;
    this.peersCopied = true;
    this.state.peers = new Map(this.state.peers);
  }
}
