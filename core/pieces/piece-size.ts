import { DamselflyError } from '../errors.ts';

/**
 * The piece size rule: aim for at least TARGET_PIECES pieces, in a power-of-two size between
 * MIN_PIECE_SIZE and MAX_PIECE_SIZE.
 *
 *   pieceSize = clamp(prevPowerOfTwo(contentLength / 256), 256 KiB, 16 MiB)
 *
 * Why: a swarm pipelines only if every peer can hold pieces others still lack, so the piece
 * count must be well above the peer count (Dragonfly v1's 4 MiB gives a 64 MiB file 16 pieces:
 * with 20 peers most of them idle waiting). Rounding the size *down* to a power of two puts the
 * count in [256, 512) wherever the clamp does not bite: 64 MiB → 256 KiB × 256, 1 GiB → 4 MiB ×
 * 256, 3 GiB → 8 MiB × 384. The floor of 256 KiB keeps per-piece overhead (one HTTP request,
 * one sha256, a few bytes of events) small against the transfer; the cap of 16 MiB bounds a
 * piece's retry cost, so files above 4 GiB get more pieces instead (10 GiB → 640, and 65 536
 * for 1 TiB, the largest file there is: MAX_FILE_SIZE below). Events carry a whole round trip
 * of pieces, so a few hundred pieces do not cost a few hundred appends.
 */
export const TARGET_PIECES = 256;
export const MIN_PIECE_SIZE = 256 * 1024;
export const MAX_PIECE_SIZE = 16 * 1024 * 1024;

/**
 * The most pieces a task may have. A task's state keeps a few arrays of this length, and one
 * per peer (what it holds), so the count is what bounds a task's memory; the rule above gives
 * at most this many for every length up to MAX_FILE_SIZE.
 */
export const MAX_PIECE_COUNT = 65_536;

/**
 * The largest file any supernode lays out: MAX_PIECE_COUNT pieces of MAX_PIECE_SIZE, 1 TiB.
 * `damselfly supernode --max-file-size` may lower it, never raise it: a larger file would
 * need more pieces or larger ones, and both are bounded on purpose.
 */
export const MAX_FILE_SIZE = MAX_PIECE_COUNT * MAX_PIECE_SIZE;

/**
 * Refuses a length above `max` (default MAX_FILE_SIZE) with DF_ERR_FILE_TOO_LARGE, and one
 * that is not a byte count with DF_ERR_VALIDATION. A length too large to be a safe integer
 * (an origin's `Content-Length: 99999999999999999999`) is too large, not malformed.
 */
export function requireFileSize(contentLength: number, max: number = MAX_FILE_SIZE): void {
  const bound = Math.min(max, MAX_FILE_SIZE);
  if (contentLength > bound) {
    throw new DamselflyError('DF_ERR_FILE_TOO_LARGE', `the file is ${contentLength} bytes; the bound is ${bound} bytes (--max-file-size)`);
  }
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new DamselflyError('DF_ERR_VALIDATION', `invalid content length ${contentLength}`);
  }
}

/** The rule above; lengths above MAX_FILE_SIZE are refused (DF_ERR_FILE_TOO_LARGE). */
export function pieceSizeFor(contentLength: number): number {
  requireFileSize(contentLength);
  let size = MIN_PIECE_SIZE;
  while (size < MAX_PIECE_SIZE && size * 2 * TARGET_PIECES <= contentLength) size *= 2;
  return size;
}

export function pieceCountFor(contentLength: number, pieceSize: number): number {
  return Math.ceil(contentLength / pieceSize);
}

export interface PieceRange {
  offset: number;
  length: number;
}

/** Byte range of `piece` in the content: every piece is `pieceSize` long except maybe the last. */
export function pieceRange(piece: number, pieceSize: number, contentLength: number): PieceRange {
  const offset = piece * pieceSize;
  if (!Number.isInteger(piece) || piece < 0 || offset >= contentLength) {
    throw new DamselflyError('DF_ERR_PIECE_OUT_OF_RANGE', `piece ${piece} of a ${contentLength}-byte task`);
  }
  return { offset, length: Math.min(pieceSize, contentLength - offset) };
}
