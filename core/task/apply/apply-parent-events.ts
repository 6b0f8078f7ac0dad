import { CDN_SOURCE, type EventOf } from '../../events/index.ts';
import type { StateDraft } from '../state-draft.ts';
import type { PeerState } from '../task-state.ts';

/**
 * The sync protocol's bookkeeping, kept here so its invariants (invariants.ts) hold by
 * construction: only an active peer has parents; a peer's `children` are the active peers whose
 * parents name it (the CDN keeps only their number, cdnChildren); parentsEver holds every
 * parent a peer id was ever given.
 */
export function applyParentsAssigned(draft: StateDraft, { data }: EventOf<'ParentsAssigned'>): void {
  const peer = draft.peer(data.peerId);
  if (!peer) return;
  peer.lastSeenAt = data.at;
  setParents(draft, peer, peer.status === 'active' ? data.parents : []);
  const added = data.parents.filter((id) => !peer.parentsEver.includes(id));
  if (added.length > 0) peer.parentsEver = [...peer.parentsEver, ...added];
}

/** A peer that stops downloading (left, failed, finished, joined again) lets go of its parents. */
export function releaseParents(draft: StateDraft, peer: PeerState): void {
  if (peer.parents.length > 0) setParents(draft, peer, []);
}

function setParents(draft: StateDraft, peer: PeerState, next: readonly string[]): void {
  for (const id of peer.parents) if (!next.includes(id)) linkChild(draft, id, peer.peerId, false);
  for (const id of next) if (!peer.parents.includes(id)) linkChild(draft, id, peer.peerId, true);
  peer.parents = [...next];
}

function linkChild(draft: StateDraft, parentId: string, childId: string, linked: boolean): void {
  if (parentId === CDN_SOURCE) {
    draft.state.cdnChildren += linked ? 1 : -1;
    return;
  }
  const parent = draft.peer(parentId);
  if (!parent) return;
  parent.children = linked ? [...parent.children, childId] : parent.children.filter((id) => id !== childId);
}
