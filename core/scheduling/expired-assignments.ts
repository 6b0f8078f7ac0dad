import type { TaskState } from '../task/task-state.ts';

export interface ExpiredAssignments {
  peerId: string;
  /** Piece numbers, ascending. */
  pieces: number[];
}

/**
 * The in-flight assignments whose deadline has come (deadline <= now), grouped by requester,
 * peers in id order and pieces ascending: the events built from this must not depend on the
 * order the peers map happens to be in (join order live, sorted after a snapshot).
 * Only active peers hold assignments (leaving ends them), so only those are visited.
 */
export function expiredAssignments(state: TaskState, now: number): ExpiredAssignments[] {
  const out: ExpiredAssignments[] = [];
  for (const peerId of [...state.peers.keys()].sort()) {
    const peer = state.peers.get(peerId)!;
    if (peer.status !== 'active') continue;
    const pieces: number[] = [];
    for (const [piece, entry] of Object.entries(peer.inflight)) if (entry.deadline <= now) pieces.push(Number(piece));
    if (pieces.length > 0) out.push({ peerId, pieces: pieces.sort((a, b) => a - b) });
  }
  return out;
}
