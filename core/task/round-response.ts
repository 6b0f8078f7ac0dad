import { CDN_SOURCE, type EventOf } from '../events/index.ts';
import { pieceRange } from '../pieces/index.ts';
import type { Assignment, RoundResponse } from '../wire/peer-api.ts';
import type { TaskState } from './task-state.ts';

export interface RoundResponseOptions {
  /** host:port where peers fetch pieces whose source is the CDN. */
  cdnAddress: string;
  /** Retry hint when there is nothing to fetch yet (policy.waitRetryMs). */
  waitRetryMs: number;
}

/**
 * The answer to a peer's round, from the state after the round's events were committed and
 * the assignments they made. Each assignment carries what the peer needs to fetch and verify
 * the piece without another request: the source's address, the byte range and the digest.
 * The digest is the one fixed when the piece was first seeded (state.pieces), whoever serves it.
 * An assignment of a piece whose digest is not known yet (only possible if the scheduler picks
 * a piece nobody has seeded) is left out: the peer could not verify it, and the assignment
 * expires on its own.
 */
export function roundResponse(
  state: TaskState,
  peerId: string,
  assigned: EventOf<'PiecesAssigned'>['data']['assignments'] | undefined,
  options: RoundResponseOptions,
): RoundResponse {
  if (state.status === 'failed') return { action: 'failed', reason: state.failure ?? 'failed' };
  const peer = state.peers.get(peerId);
  const { pieceCount, pieceSize, contentLength } = state;
  if (pieceCount === null || pieceSize === null || contentLength === null || !peer) {
    return { action: 'wait', retryAfterMs: options.waitRetryMs };
  }
  if (peer.haveCount === pieceCount || peer.status === 'succeeded') return { action: 'done' };
  const assignments: Assignment[] = [];
  for (const { piece, source } of assigned ?? []) {
    const info = state.pieces[piece];
    const address = source === CDN_SOURCE ? options.cdnAddress : state.peers.get(source)?.address;
    if (!info || !address) continue;
    const { offset, length } = pieceRange(piece, pieceSize, contentLength);
    assignments.push({ piece, source, address, offset, size: length, digest: info.digest });
  }
  if (assignments.length === 0) return { action: 'wait', retryAfterMs: options.waitRetryMs };
  return { action: 'assign', assignments, contentLength, pieceSize, pieceCount };
}
