import { CDN_SOURCE } from '../../events/index.ts';
import type { PeerState, PeerStatus } from '../task-state.ts';
import type { StateDraft } from '../state-draft.ts';

/**
 * The bookkeeping every piece and peer event shares, kept in one place so that the invariants
 * (checked by invariants.ts) hold by construction:
 * - inflightCount[p] = number of peers with p in flight;
 * - a source's uploading (cdnUploading for the CDN) = in-flight entries naming it;
 * - availability[p] = peers that hold p and still serve (status active or succeeded).
 */

/** Whether a peer in this status serves its pieces, so they count in availability. */
export function serves(status: PeerStatus): boolean {
  return status === 'active' || status === 'succeeded';
}

export function takeSlot(draft: StateDraft, source: string): void {
  if (source === CDN_SOURCE) {
    draft.state.cdnUploading += 1;
    return;
  }
  const peer = draft.peer(source);
  if (peer) peer.uploading += 1;
}

export function releaseSlot(draft: StateDraft, source: string): void {
  if (source === CDN_SOURCE) {
    draft.state.cdnUploading -= 1;
    return;
  }
  const peer = draft.peer(source);
  if (peer) peer.uploading -= 1;
}

/** Ends `requester`'s in-flight assignment of `piece`, if any; returns the source it named. */
export function endInflight(draft: StateDraft, requester: PeerState, piece: number): string | undefined {
  const entry = requester.inflight[piece];
  if (!entry) return undefined;
  delete draft.inflight(requester)[piece];
  draft.inflightCount()[piece]! -= 1;
  releaseSlot(draft, entry.source);
  return entry.source;
}

export function endAllInflight(draft: StateDraft, requester: PeerState): void {
  for (const key of Object.keys(requester.inflight)) endInflight(draft, requester, Number(key));
}

/** Changes a peer's status, moving its pieces in or out of availability as the status requires. */
export function setPeerStatus(draft: StateDraft, peer: PeerState, status: PeerStatus): void {
  const before = serves(peer.status);
  const after = serves(status);
  peer.status = status;
  if (before === after || peer.haveCount === 0) return;
  const availability = draft.availability();
  const delta = after ? 1 : -1;
  const have = peer.have;
  for (let p = 0; p < have.length; p++) if (have[p]) availability[p]! += delta;
}
