import type { EventOf } from '../../events/index.ts';
import { initialTaskState } from '../task-state.ts';
import type { StateDraft } from '../state-draft.ts';

export function applyTaskCreated(draft: StateDraft, { data }: EventOf<'TaskCreated'>): void {
  // A (re)created task starts from scratch; only the stream's owner and version carry over.
  const { owner, version } = draft.state;
  Object.assign(draft.state, initialTaskState(data.taskId), {
    url: data.url,
    digest: data.digest,
    identifier: data.identifier,
    range: data.range,
    filter: data.filter,
    createdAt: data.at,
    owner,
    version,
  });
}

export function applySourceProbed(draft: StateDraft, { data }: EventOf<'SourceProbed'>): void {
  const s = draft.state;
  const n = data.pieceCount;
  s.contentLength = data.contentLength;
  s.pieceSize = data.pieceSize;
  s.pieceCount = n;
  s.acceptRanges = data.acceptRanges;
  s.etag = data.etag;
  s.lastModified = data.lastModified;
  // The piece layout is fixed from here on. Peers may have joined before the probe; their
  // per-piece arrays are sized now (and, were a probe ever repeated, everything restarts).
  s.pieces = new Array(n).fill(null);
  s.seededCount = 0;
  s.cdnHeld = new Array<boolean>(n).fill(false);
  s.cdnHeldCount = 0;
  s.availability = new Array<number>(n).fill(0);
  s.inflightCount = new Array<number>(n).fill(0);
  s.cdnUploading = 0;
  for (const peerId of s.peers.keys()) {
    const peer = draft.peer(peerId)!;
    peer.have = new Array<boolean>(n).fill(false);
    peer.haveCount = 0;
    peer.inflight = {};
    peer.assignedFrom = new Array<null>(n).fill(null);
    peer.uploading = 0;
  }
}

export function applyPiecesSeeded(draft: StateDraft, { data }: EventOf<'PiecesSeeded'>): void {
  const s = draft.state;
  const n = s.pieces.length;
  for (const { piece, size, digest } of data.pieces) {
    if (piece >= n) continue;
    const pieces = draft.pieces();
    if (pieces[piece] === null) s.seededCount += 1;
    pieces[piece] = { size, digest };
    if (!s.cdnHeld[piece]) {
      draft.cdnHeld()[piece] = true;
      s.cdnHeldCount += 1;
    }
  }
}

export function applyTaskFailed(draft: StateDraft, { data }: EventOf<'TaskFailed'>): void {
  draft.state.failure = data.reason;
}

export function applyOwnershipAcquired(draft: StateDraft, { data }: EventOf<'OwnershipAcquired'>): void {
  const s = draft.state;
  s.owner = { replicaId: data.replicaId, epoch: data.epoch };
  if (data.cdnPieces === undefined) return;
  // The new owner's CDN serves from its own disk: it holds what it reported, and only pieces
  // whose digest is known (a piece it cannot vouch for is fetched again, never guessed).
  const held = new Array<boolean>(s.pieces.length).fill(false);
  let count = 0;
  for (const piece of data.cdnPieces) {
    if (piece < held.length && s.pieces[piece] !== null && !held[piece]) {
      held[piece] = true;
      count += 1;
    }
  }
  s.cdnHeld = held;
  s.cdnHeldCount = count;
}
