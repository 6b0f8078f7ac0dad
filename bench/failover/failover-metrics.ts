import type { StoredEvent } from '../../core/events/index.ts';
import { replay, stateOf } from '../../core/task/index.ts';

/** An acknowledged round as a peer's --ack-log records it (only what the metrics need). */
export interface AckStamp {
  peerId: string;
  /** The peer's clock when the 2xx arrived, ms. */
  at: number;
  /** Pieces the round reported verified. */
  ok: number;
}

export interface StallStats {
  /** Peers still downloading at the kill (they had an acknowledged round after it). */
  peers: number;
  p50Seconds: number;
  p99Seconds: number;
  maxSeconds: number;
}

/**
 * How long each peer went without an acknowledged round after the kill: from the kill to its
 * first report some replica answered 2xx. A peer keeps fetching the pieces it was assigned
 * meanwhile, so this is the stall of its control plane (no new assignments, no reports taken),
 * which is what a failover costs. Peers that finished before the kill are not counted.
 */
export function stallAfterKill(acks: readonly AckStamp[], killAt: number, finishedBeforeKill: ReadonlySet<string>): StallStats {
  const firstAfter = new Map<string, number>();
  for (const a of acks) {
    if (a.at <= killAt || finishedBeforeKill.has(a.peerId)) continue;
    const seen = firstAfter.get(a.peerId);
    if (seen === undefined || a.at < seen) firstAfter.set(a.peerId, a.at);
  }
  const stalls = [...firstAfter.values()].map((at) => (at - killAt) / 1000).sort((x, y) => x - y);
  return { peers: stalls.length, p50Seconds: quantile(stalls, 0.5), p99Seconds: quantile(stalls, 0.99), maxSeconds: stalls.at(-1) ?? 0 };
}

/** Nearest-rank quantile of sorted values (0 for none). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Bytes of the pieces that no surviving process held at the kill: the task's state folded from
 * the events committed up to the kill (the store's clock), where a piece counts as held if a
 * serving peer had reported it. The dead owner's CDN copy does not count — that is the point.
 * Pieces a peer had stored but not yet reported count as unheld, so this errs high, which is
 * the safe side for the target "extra origin bytes ≤ unheld bytes".
 */
export function unheldBytesAtKill(events: readonly StoredEvent[], killAt: number): number {
  const before = events.filter((e) => e.recordedAt <= killAt);
  if (before.length === 0) return 0;
  const state = stateOf(replay(before));
  if (state.pieceCount === null || state.pieceSize === null || state.contentLength === null) return state.contentLength ?? 0;
  let bytes = 0;
  for (let p = 0; p < state.pieceCount; p++) {
    if ((state.availability[p] ?? 0) > 0) continue;
    bytes += Math.min(state.pieceSize, state.contentLength - p * state.pieceSize);
  }
  return bytes;
}
