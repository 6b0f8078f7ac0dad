/**
 * The port the piece server reads through: what one holder may serve. The CDN's store and a
 * peer's verified pieces each implement it (supernode/cdn/cdn-piece-source.ts,
 * peer/uploader/registry-piece-source.ts); the daemon's cache will too. Tests wrap a source to
 * make a holder lie or stall — the one place fault injection enters the data plane.
 */
export interface PieceSource {
  /**
   * The piece if this holder may serve it now (complete and verified), else undefined. The
   * piece server closes what it opened, however the response ends.
   */
  open(taskId: string, piece: number): Promise<OpenPiece | undefined>;
  /** What this holder has of a task, for requesters choosing pieces (GET /pieces/:taskId); undefined if it serves nothing of the task. */
  holdings?(taskId: string): PieceHoldings | undefined;
}

export interface PieceHoldings {
  /** How many pieces are held now. */
  readonly count: number;
  /** How many pieces the task has: a watch ends once all are held. */
  readonly total: number;
  /** One bit per piece, piece 0 in the high bit of byte 0 (BitTorrent's bitfield order); length ceil(pieceCount/8). */
  bitfield(): Uint8Array;
  /**
   * Resolves once count is above `sinceCount` (at once if it already is), or after `timeoutMs`,
   * or when the holder gives the task up, or when `signal` aborts (the requester went away: the
   * waiter and its timer are released at once). Never rejects. False once the holder gave the
   * task up: nothing more will land.
   */
  changed(sinceCount: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
}

export interface OpenPiece {
  readonly size: number;
  /** The bytes start..end (inclusive) in chunks of at most `chunkBytes`. */
  chunks(start: number, end: number, chunkBytes: number): AsyncIterable<Buffer> | Iterable<Buffer>;
  close(): Promise<void>;
}

/** A piece held in memory, as a source hands it out. */
export function bufferPiece(bytes: Buffer): OpenPiece {
  return {
    size: bytes.length,
    *chunks(start, end, chunkBytes) {
      for (let at = start; at <= end; at += chunkBytes) yield bytes.subarray(at, Math.min(end + 1, at + chunkBytes));
    },
    close: async () => {},
  };
}
