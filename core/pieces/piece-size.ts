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
 * piece's retry cost, so files above 4 GiB get more pieces instead (10 GiB → 640). Events carry
 * a whole round trip of pieces, so a few hundred pieces do not cost a few hundred appends.
 */
export const TARGET_PIECES = 256;
export const MIN_PIECE_SIZE = 256 * 1024;
export const MAX_PIECE_SIZE = 16 * 1024 * 1024;

export function pieceSizeFor(contentLength: number): number {
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new DamselflyError('DF_ERR_VALIDATION', `invalid content length ${contentLength}`);
  }
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
