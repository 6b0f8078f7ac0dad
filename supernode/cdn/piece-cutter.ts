import { createHash } from 'node:crypto';
import { DamselflyError } from '../../core/errors.ts';
import { pieceCountFor, pieceRange } from '../../core/pieces/index.ts';

export interface CutPiece {
  piece: number;
  size: number;
  /** sha256 of the piece's bytes, lowercase hex. */
  digest: string;
  bytes: Buffer;
}

export interface PieceLayout {
  contentLength: number;
  pieceSize: number;
}

/**
 * Cuts a byte stream that starts at the first byte of piece `first` into whole pieces, hashing
 * as the bytes arrive, and yields each piece as soon as its last byte is in (so the caller can
 * store and announce it while the rest is still coming). A stream that ends early simply stops
 * yielding: the caller sees which piece is next and resumes from there. A stream longer than
 * the content is a different version of it.
 *
 * A piece is held in memory until it is complete: at most one piece size (≤ 16 MiB) per seed.
 * It is assembled in one buffer as the bytes arrive, so the body's chunks die young: kept in a
 * list until the piece was whole, they outlived the young generation and made the seed's GC
 * the largest item in the CDN's profile (issue 13).
 */
export async function* cutPieces(body: AsyncIterable<Uint8Array>, layout: PieceLayout, first: number): AsyncGenerator<CutPiece> {
  const count = pieceCountFor(layout.contentLength, layout.pieceSize);
  let piece = first;
  let want = piece < count ? pieceRange(piece, layout.pieceSize, layout.contentLength).length : 0;
  let bytes = Buffer.allocUnsafe(want);
  let have = 0;
  let hash = createHash('sha256');
  for await (const raw of body) {
    let chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    while (chunk.length > 0) {
      if (piece >= count) {
        throw new DamselflyError('DF_ERR_ORIGIN_CHANGED', `the origin sent more than the ${layout.contentLength} bytes it announced`);
      }
      const part = chunk.subarray(0, want - have);
      chunk = chunk.subarray(part.length);
      part.copy(bytes, have);
      hash.update(part);
      have += part.length;
      if (have === want) {
        yield { piece, size: want, digest: hash.digest('hex'), bytes };
        piece += 1;
        want = piece < count ? pieceRange(piece, layout.pieceSize, layout.contentLength).length : 0;
        bytes = Buffer.allocUnsafe(want);
        have = 0;
        hash = createHash('sha256');
      }
    }
  }
}
