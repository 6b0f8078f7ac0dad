import { CDN_SOURCE, type StoredEvent } from '../../core/events/index.ts';
import type { TaskState } from '../../core/task/task-state.ts';
import type { Assignment, RoundResponse } from '../../core/wire/peer-api.ts';

/**
 * Turns the committed events of a Round into the peer's answer: its assignments with where to
 * fetch each piece (the CDN's advertised address or the source peer's uploader), or why there
 * is nothing to do right now.
 */
export function roundResponse(
  events: StoredEvent[],
  state: TaskState,
  peerId: string,
  cdnAddress: string,
  waitRetryMs: number,
): RoundResponse {
  if (state.status === 'failed') return { action: 'failed', reason: state.failure ?? 'task failed' };
  if (state.status === 'evicted') return { action: 'failed', reason: 'task evicted' };
  const assignments: Assignment[] = [];
  for (const e of events) {
    if (e.type !== 'PiecesAssigned' || e.data.peerId !== peerId) continue;
    for (const a of e.data.assignments) {
      const info = state.pieces[a.piece];
      if (!info) continue; // cannot happen: only seeded pieces are assignable
      const address = a.source === CDN_SOURCE ? cdnAddress : state.peers[a.source]?.address;
      if (!address) continue;
      assignments.push({ piece: a.piece, source: a.source, address, offset: a.piece * state.pieceSize!, size: info.size, digest: info.digest });
    }
  }
  if (assignments.length > 0) {
    return { action: 'assign', assignments, contentLength: state.contentLength!, pieceSize: state.pieceSize!, pieceCount: state.pieceCount! };
  }
  const peer = state.peers[peerId];
  if (peer && state.pieceCount !== null && peer.haveCount >= state.pieceCount) return { action: 'done' };
  return { action: 'wait', retryAfterMs: waitRetryMs };
}
