import type { PeerState, TaskState } from '../task/task-state.ts';

/**
 * The pieces the CDN must fetch from the origin now, in piece order: every piece never seeded
 * (the seed is not complete), and every piece whose digest is known that the CDN does not hold
 * (its owner changed, and the old owner's disk is gone with it) while no serving peer holds it
 * either and some active peer still lacks it.
 *
 * A piece some serving peer holds is left to the swarm even if the CDN lacks it: fetching it
 * again would cost origin bytes for a copy the swarm already has. A piece nobody holds and no
 * active peer needs waits too; it is asked for again when a peer that lacks it turns up (the
 * caller re-evaluates on every peer touch). So a failover costs the origin at most the pieces
 * no surviving process held.
 *
 * O(1) when the CDN holds every piece (the usual case on the task's first owner), else
 * O(pieces), plus O(active peers) per piece that nobody holds.
 */
export function piecesFromOrigin(state: TaskState): number[] {
  const n = state.pieceCount;
  if ((state.status !== 'seeding' && state.status !== 'seeded') || n === null || state.cdnHeldCount >= n) return [];
  const out: number[] = [];
  let active: PeerState[] | undefined;
  for (let p = 0; p < n; p++) {
    if (state.cdnHeld[p]) continue;
    if (state.pieces[p] === null) {
      out.push(p);
      continue;
    }
    if ((state.availability[p] ?? 0) > 0) continue;
    active ??= [...state.peers.values()].filter((peer) => peer.status === 'active');
    if (active.some((peer) => !peer.have[p])) out.push(p);
  }
  return out;
}
