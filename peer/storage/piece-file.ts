import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';

/**
 * The file a download writes into: a temp file next to the output, written at piece offsets as
 * verified pieces arrive (in any order), renamed over the output at the end. A crash or a
 * failed download never leaves a half-written file under the output's name.
 */
export class PieceFile {
  private readonly stored = new Set<number>();

  private constructor(
    readonly output: string,
    readonly tempPath: string,
    private readonly handle: FileHandle,
    readonly contentLength: number,
  ) {}

  static async create(output: string, contentLength: number): Promise<PieceFile> {
    const tempPath = `${output}.damselfly-${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(tempPath, 'w+');
    await handle.truncate(contentLength);
    return new PieceFile(output, tempPath, handle, contentLength);
  }

  has(piece: number): boolean {
    return this.stored.has(piece);
  }

  get storedCount(): number {
    return this.stored.size;
  }

  storedPieces(): number[] {
    return [...this.stored];
  }

  /** Writes a piece that the caller has already verified. */
  async writePiece(piece: number, offset: number, bytes: Uint8Array): Promise<void> {
    if (offset + bytes.length > this.contentLength) throw new RangeError(`piece ${piece} ends past the file`);
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, written, bytes.length - written, offset + written);
      written += bytesWritten;
    }
    this.stored.add(piece);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await this.handle.read(buf, read, length - read, offset + read);
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
    await this.handle.sync();
    if (digest) {
      const actual = `sha256:${await sha256File(this.tempPath)}`;
      if (actual !== digest) {
        await this.abort();
        throw Object.assign(new Error(`the downloaded file's digest ${actual} does not match ${digest}`), { code: 'DF_ERR_DIGEST_MISMATCH' });
      }
    }
    await rename(this.tempPath, this.output);
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {
      // already closed (abort): nothing to release
    });
  }

  async abort(): Promise<void> {
    await this.close();
    await rm(this.tempPath, { force: true });
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
