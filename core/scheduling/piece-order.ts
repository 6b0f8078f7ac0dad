import type { PeerState, TaskState } from '../task/task-state.ts';
import { mix32 } from './spread-hash.ts';

// Sort keys pack (effective availability, spread hash, piece) into one float64 so that the
// order comes from a native typed-array sort rather than a JS comparator (≈10× faster at 1000s
// of pieces). Bits: 14 for availability (saturated: beyond 16383 copies rarity no longer
// matters), 16 for the hash, 23 for the piece number (8M pieces, far beyond any piece size rule).
const EFF_MAX = 2 ** 14 - 1;
const HASH_SHIFT = 2 ** 23;
const EFF_SHIFT = 2 ** 39;
const PIECE_MASK = HASH_SHIFT - 1;

/**
 * The pieces `requester` could be given, rarest first. A candidate is neither held nor in flight
 * for the requester, and exists somewhere: at a serving peer or seeded at the CDN. Rarity is the
 * effective availability, holders plus copies in flight, so that while fresh pieces remain, a
 * piece already on its way into the swarm is not pulled a second time. Equal rarity is ordered
 * by mix32(seed ^ piece): each requester has its own order, so concurrent requesters spread.
 */
export function rarestFirst(state: TaskState, requester: PeerState, seed: number): number[] {
  const n = Math.min(state.pieceCount ?? 0, PIECE_MASK + 1);
  const { availability, inflightCount, pieces } = state;
  const { have, inflight } = requester;
  const keys = new Float64Array(n);
  let count = 0;
  for (let p = 0; p < n; p++) {
    if (have[p] || inflight[p] !== undefined) continue;
    const held = availability[p] ?? 0;
    if (held === 0 && !pieces[p]) continue;
    const eff = Math.min(held + (inflightCount[p] ?? 0), EFF_MAX);
    keys[count++] = eff * EFF_SHIFT + (mix32(seed ^ p) >>> 16) * HASH_SHIFT + p;
  }
  const sorted = keys.subarray(0, count).sort();
  const order = new Array<number>(count);
  for (let i = 0; i < count; i++) order[i] = sorted[i]! % HASH_SHIFT;
  return order;
}
