import { CDN_SOURCE, type EventOf, type FailureReason } from '../../events/index.ts';
import type { StateDraft } from '../state-draft.ts';
import { wasAssignedFrom } from '../task-state.ts';
import { endInflight, serves, takeSlot } from './slots.ts';

/**
 * Whether a failure of this kind counts against the source. Every reason but 'io' does: a
 * digest mismatch, refusal or HTTP error is the source's doing, and a source that is
 * unreachable or too slow is one to avoid whoever is at fault on the path. 'io' is the
 * requester's own disk failing to store a good piece, so the source is not blamed.
 */
export function blamesSource(reason: FailureReason): boolean {
  return reason !== 'io';
}

/**
 * Whether a failure is counted against its source (failedSources, failuresCaused). The CDN is
 * the cluster's, served by whichever replica owns the task: one that cannot be reached is a
 * replica gone (its successor serves the CDN from now on), not a bad source. Counting it would
 * shut the requester out of its successor's CDN too.
 */
export function countsAgainstSource(source: string, reason: FailureReason): boolean {
  if (!blamesSource(reason)) return false;
  return !(source === CDN_SOURCE && (reason === 'unreachable' || reason === 'refused'));
}

export function applyPiecesAssigned(draft: StateDraft, { data }: EventOf<'PiecesAssigned'>): void {
  const peer = draft.peer(data.peerId);
  if (!peer) return;
  peer.lastSeenAt = data.at;
  const pieceCount = draft.state.inflightCount.length;
  for (const { piece, source, deadline } of data.assignments) {
    if (piece >= pieceCount) continue;
    endInflight(draft, peer, piece); // a re-assignment replaces the old one
    draft.inflight(peer)[piece] = { source, deadline };
    draft.inflightCount()[piece]! += 1;
    takeSlot(draft, source);
    if (!wasAssignedFrom(peer, piece, source)) {
      const before = peer.assignedFrom[piece];
      draft.assignedFrom(peer)[piece] = before == null ? source : [...(typeof before === 'string' ? [before] : before), source];
    }
  }
}

export function applyPiecesReported(draft: StateDraft, { data }: EventOf<'PiecesReported'>): void {
  const peer = draft.peer(data.peerId);
  if (!peer) return;
  peer.lastSeenAt = data.at;
  const pieceCount = draft.state.inflightCount.length;
  for (const { source, pieces } of data.ok) {
    let served = 0;
    for (const piece of pieces) {
      if (piece >= pieceCount) continue;
      endInflight(draft, peer, piece);
      if (peer.have[piece]) continue; // already counted: a repeated report changes nothing
      draft.have(peer)[piece] = true;
      peer.haveCount += 1;
      if (serves(peer.status)) draft.availability()[piece]! += 1;
      served += 1;
    }
    if (served === 0) continue;
    if (source === CDN_SOURCE) draft.state.cdnServed += served;
    else {
      const from = draft.peer(source);
      if (from) from.served += served;
    }
  }
  for (const { piece, source, reason } of data.failed) {
    if (piece >= pieceCount) continue;
    endInflight(draft, peer, piece);
    if (!countsAgainstSource(source, reason)) continue;
    const failed = draft.failedSources(peer);
    failed[source] = (failed[source] ?? 0) + 1;
    if (source !== CDN_SOURCE) {
      const culprit = draft.peer(source);
      if (culprit) culprit.failuresCaused += 1;
    }
  }
}

export function applyAssignmentsExpired(draft: StateDraft, { data }: EventOf<'AssignmentsExpired'>): void {
  const peer = draft.peer(data.peerId);
  if (!peer) return;
  for (const piece of data.pieces) endInflight(draft, peer, piece);
}
