import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DamselflyError } from '../../../core/errors.ts';
import type { PieceFile } from '../../storage/piece-file.ts';
import type { ByteSpan } from '../p2p-fetcher.ts';

/**
 * A file's bytes in order as its pieces land (PieceFile.whenStored), read from the file the
 * download writes. For the whole content with a digest the bytes are hashed on the way and the
 * last piece is held back until the hash matches: a mismatch errors the stream, so a client
 * never receives a complete-looking wrong blob.
 */
export function pieceStream(file: PieceFile, span: ByteSpan | undefined, digest: string | undefined): Readable {
  const { pieceSize, contentLength } = file.layout;
  const start = span?.start ?? 0;
  const end = span?.end ?? contentLength - 1;
  const check = digest && start === 0 && end === contentLength - 1 ? createHash('sha256') : undefined;
  async function* bytes(): AsyncGenerator<Buffer> {
    if (contentLength === 0) {
      verify();
      return;
    }
    const last = Math.floor(end / pieceSize);
    for (let piece = Math.floor(start / pieceSize); piece <= last; piece++) {
      await file.whenStored(piece);
      const r = file.range(piece);
      const from = Math.max(start, r.offset) - r.offset;
      const to = Math.min(end + 1, r.offset + r.length) - r.offset;
      // A copy: the piece's buffer may be shared with the uploader's in-memory copy.
      const chunk = Buffer.from(await file.readPiece(piece, from, to - from));
      check?.update(chunk);
      if (piece === last) verify();
      yield chunk;
    }
  }
  function verify(): void {
    if (!check) return;
    const actual = `sha256:${check.digest('hex')}`;
    if (actual !== digest) throw new DamselflyError('DF_ERR_DIGEST_MISMATCH', `the content is ${actual}, expected ${digest}`);
  }
  return Readable.from(bytes(), { objectMode: false });
}
