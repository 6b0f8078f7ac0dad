import type { EventOf } from '../../events/index.ts';
import type { PeerState, PeerStatus } from '../task-state.ts';
import type { StateDraft } from '../state-draft.ts';
import { endAllInflight, setPeerStatus } from './slots.ts';
import { releaseParents } from './apply-parent-events.ts';

export function applyPeerJoined(draft: StateDraft, { data }: EventOf<'PeerJoined'>): void {
  const previous = draft.peer(data.peerId);
  if (previous) {
    // A peer id joining again starts over: its old assignments end, its parents are let go and
    // its old pieces stop counting (joinedPeer says what carries over).
    endAllInflight(draft, previous);
    releaseParents(draft, previous);
    setPeerStatus(draft, previous, 'left');
  } else draft.peerOrder().push(data.peerId);
  draft.putPeer(joinedPeer(data, previous, draft.state.pieceCount ?? 0));
}

/**
 * The state of a peer that just joined: nothing held, nothing in flight. What others owe it
 * (uploading), its record as a source, what it was ever assigned or linked to (it re-reports
 * what it holds) and its children carry over from the id's previous life.
 */
export function joinedPeer(data: EventOf<'PeerJoined'>['data'], previous: PeerState | undefined, pieceCount: number): PeerState {
  return {
    peerId: data.peerId,
    hostId: data.hostId,
    address: data.address,
    status: 'active',
    joinedAt: data.at,
    lastSeenAt: data.at,
    have: new Array<boolean>(pieceCount).fill(false),
    haveCount: 0,
    inflight: {},
    assignedFrom: previous?.assignedFrom ?? new Array<null>(pieceCount).fill(null),
    uploading: previous?.uploading ?? 0,
    failedSources: {},
    failuresCaused: previous?.failuresCaused ?? 0,
    served: previous?.served ?? 0,
    parents: [],
    parentsEver: previous?.parentsEver ?? [],
    children: previous?.children ?? [],
  };
}

/** PeerLeft, PeerFailed, PeerSucceeded: the peer's assignments end, its parents are let go; a gone peer's pieces stop counting. */
export function applyPeerOutcome(
  draft: StateDraft,
  { data }: EventOf<'PeerLeft' | 'PeerFailed' | 'PeerSucceeded'>,
  status: PeerStatus,
  /** False when the supernode decided it (expiry): the peer itself was not heard from. */
  heard: boolean,
): void {
  const peer = draft.peer(data.peerId);
  if (!peer) return;
  endAllInflight(draft, peer);
  releaseParents(draft, peer);
  setPeerStatus(draft, peer, status);
  if (heard) peer.lastSeenAt = data.at;
}
