import type { StoredEvent } from '../events/index.ts';

/** One piece transfer as the events tell it: who got which piece from whom, when, verified or not. */
export interface PieceTransfer {
  piece: number;
  peerId: string;
  source: string;
  /** When the peer reported it (epoch ms), and the event's stream version. */
  at: number;
  version: number;
  verified: boolean;
  /** Why it failed (digest mismatch, unreachable source, …) when not verified. */
  reason?: string;
  ms?: number;
}

/**
 * The provenance of every piece, derived from the events alone (no live state): every reported
 * transfer, successful or not, in event order. Audits and `damselfly history` read this.
 */
export function pieceProvenance(events: readonly StoredEvent[]): PieceTransfer[] {
  const out: PieceTransfer[] = [];
  for (const e of events) {
    if (e.type !== 'PiecesReported') continue;
    const { peerId, at } = e.data;
    for (const { source, pieces, ms } of e.data.ok) {
      pieces.forEach((piece, i) => out.push({ piece, peerId, source, at, version: e.version, verified: true, ms: ms[i]! }));
    }
    for (const f of e.data.failed) out.push({ piece: f.piece, peerId, source: f.source, at, version: e.version, verified: false, reason: f.reason });
  }
  return out;
}

/** Bytes-free summary of who served how many verified pieces (peers vs the CDN). */
export function servedBySource(transfers: readonly PieceTransfer[]): Record<string, number> {
  const served: Record<string, number> = {};
  for (const t of transfers) if (t.verified) served[t.source] = (served[t.source] ?? 0) + 1;
  return served;
}
