import type { PeerState, TaskState } from '../task/task-state.ts';
import { mix32 } from './spread-hash.ts';

// Keys pack (effective availability, spread hash, piece) into one float64, compared as plain
// numbers. Bits: 14 for availability (saturated: beyond 16383 copies rarity no longer matters),
// 16 for the hash, 23 for the piece number (8M pieces, far beyond any piece size rule).
const EFF_MAX = 2 ** 14 - 1;
const HASH_SHIFT = 2 ** 23;
const EFF_SHIFT = 2 ** 39;

/**
 * The pieces `requester` could be given, rarest first, as a lazy queue. A candidate is neither
 * held nor in flight for the requester, and exists somewhere: at a serving peer or on the
 * CDN's disk (cdnHeld; a piece whose digest is known but that nobody holds waits for the refill). Rarity is the effective availability, holders plus copies in flight, so that while
 * fresh pieces remain, a piece already on its way into the swarm is not pulled a second time.
 * Equal rarity is ordered by mix32(seed ^ piece): each requester has its own order, so
 * concurrent requesters spread.
 *
 * A call usually consumes a handful of pieces out of 1000s, so the candidates are heapified
 * (O(n)) and popped on demand (O(log n) each) rather than sorted.
 */
export class RarestFirst {
  private readonly heap: Float64Array;
  private size = 0;

  constructor(state: TaskState, requester: PeerState, seed: number) {
    const n = Math.min(state.pieceCount ?? 0, HASH_SHIFT);
    const { availability, inflightCount, cdnHeld } = state;
    const { have, inflight } = requester;
    this.heap = new Float64Array(n);
    for (let p = 0; p < n; p++) {
      if (have[p] || inflight[p] !== undefined) continue;
      const held = availability[p] ?? 0;
      if (held === 0 && !cdnHeld[p]) continue;
      const eff = Math.min(held + (inflightCount[p] ?? 0), EFF_MAX);
      this.heap[this.size++] = eff * EFF_SHIFT + (mix32(seed ^ p) >>> 16) * HASH_SHIFT + p;
    }
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** The next piece in order, or undefined when none is left. */
  next(): number | undefined {
    if (this.size === 0) return undefined;
    const top = this.heap[0]!;
    this.heap[0] = this.heap[--this.size]!;
    this.siftDown(0);
    return top % HASH_SHIFT;
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    const size = this.size;
    let i = start;
    const value = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && heap[child + 1]! < heap[child]!) child++;
      if (heap[child]! >= value) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = value;
  }
}

/** The whole order at once (tests and docs; the scheduler pops lazily). */
export function rarestFirst(state: TaskState, requester: PeerState, seed: number): number[] {
  const queue = new RarestFirst(state, requester, seed);
  const order: number[] = [];
  for (let p = queue.next(); p !== undefined; p = queue.next()) order.push(p);
  return order;
}
