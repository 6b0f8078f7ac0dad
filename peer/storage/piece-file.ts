import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { DamselflyError } from '../../core/errors.ts';
import { pieceCountFor, pieceRange } from '../../core/pieces/index.ts';

export interface PieceLayout {
  contentLength: number;
  pieceSize: number;
}

/**
 * The file a download writes into: a temp file next to the output (`<out>.damselfly-<id>.tmp`),
 * written at piece offsets as verified pieces arrive in any order, renamed over the output at
 * the end. A crash or a failed download never leaves a half-written file under the output's
 * name. The set of stored pieces is what the uploader may serve: a piece is added only after
 * its bytes were verified by the caller and written completely.
 */
export class PieceFile {
  readonly pieceCount: number;
  private readonly stored = new Set<number>();
  private committed = false;

  private constructor(
    readonly output: string,
    readonly tempPath: string,
    private readonly handle: FileHandle,
    readonly layout: PieceLayout,
  ) {
    this.pieceCount = pieceCountFor(layout.contentLength, layout.pieceSize);
  }

  static async create(output: string, layout: PieceLayout): Promise<PieceFile> {
    if (!Number.isSafeInteger(layout.contentLength) || layout.contentLength < 0 || !(layout.pieceSize > 0)) {
      throw new RangeError(`invalid layout: ${layout.contentLength} bytes in pieces of ${layout.pieceSize}`);
    }
    const tempPath = `${output}.damselfly-${randomBytes(6).toString('hex')}.tmp`;
    // 'wx': never reuse or follow an existing file under the temp name.
    const handle = await open(tempPath, 'wx+');
    // Sparse preallocation: the final size is known, pieces land at their offsets.
    await handle.truncate(layout.contentLength);
    return new PieceFile(output, tempPath, handle, layout);
  }

  has(piece: number): boolean {
    return this.stored.has(piece);
  }

  get storedCount(): number {
    return this.stored.size;
  }

  get isComplete(): boolean {
    return this.stored.size === this.pieceCount;
  }

  storedPieces(): number[] {
    return [...this.stored].sort((a, b) => a - b);
  }

  /** Byte range of a piece in the file (throws for a piece out of range). */
  range(piece: number): { offset: number; length: number } {
    return pieceRange(piece, this.layout.pieceSize, this.layout.contentLength);
  }

  /** Writes a piece whose bytes the caller has verified; it is served only once fully written. */
  async writePiece(piece: number, bytes: Uint8Array): Promise<void> {
    const { offset, length } = this.range(piece);
    if (bytes.length !== length) throw new RangeError(`piece ${piece} has ${length} bytes, got ${bytes.length}`);
    let written = 0;
    while (written < length) {
      const { bytesWritten } = await this.handle.write(bytes, written, length - written, offset + written);
      written += bytesWritten;
    }
    this.stored.add(piece);
  }

  /** Reads `length` bytes at `start` within a stored piece. */
  async readPiece(piece: number, start = 0, length?: number): Promise<Buffer> {
    if (!this.stored.has(piece)) throw new RangeError(`piece ${piece} is not stored`);
    const r = this.range(piece);
    const n = length ?? r.length - start;
    if (start < 0 || n < 0 || start + n > r.length) throw new RangeError(`bytes ${start}+${n} are outside piece ${piece}`);
    const buf = Buffer.allocUnsafe(n);
    let read = 0;
    while (read < n) {
      const { bytesRead } = await this.handle.read(buf, read, n - read, r.offset + start + read);
      if (bytesRead === 0) throw new RangeError('read past the end of the file');
      read += bytesRead;
    }
    return buf;
  }

  /**
   * Verifies the whole file against `digest` ("sha256:HEX") if given, then renames it to the
   * output. On a mismatch the temp file is removed and nothing appears under the output name.
   * The handle stays open (a renamed file keeps its descriptor), so the uploader can go on
   * serving pieces while the peer lingers; close() releases it.
   */
  async commit(digest?: string): Promise<void> {
    if (!this.isComplete) throw new Error(`cannot commit ${this.output}: ${this.stored.size} of ${this.pieceCount} pieces stored`);
    await this.handle.sync();
    if (digest) {
      const actual = `sha256:${await sha256File(this.tempPath)}`;
      if (actual !== digest) {
        await this.abort();
        throw new DamselflyError('DF_ERR_DIGEST_MISMATCH', `the downloaded file is ${actual}, expected ${digest}`);
      }
    }
    await rename(this.tempPath, this.output);
    this.committed = true;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {
      // already closed (abort after close, or twice): nothing left to release
    });
  }

  /** Gives up: releases the file and removes the temp file (never the committed output). */
  async abort(): Promise<void> {
    this.stored.clear();
    await this.close();
    if (!this.committed) await rm(this.tempPath, { force: true });
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
