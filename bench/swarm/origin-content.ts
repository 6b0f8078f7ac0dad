import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The bytes an origin serves, read in slices: a buffer, or content generated on the fly. */
export interface OriginContent {
  readonly length: number;
  /** Bytes [start, end) — at most MAX_SLICE of them. */
  slice(start: number, end: number): Buffer;
}

/** The largest slice asked of a content at once. */
export const MAX_SLICE = 1024 * 1024;

export function bufferContent(bytes: Buffer): OriginContent {
  return { length: bytes.length, slice: (start, end) => bytes.subarray(start, end) };
}

const ZEROS = Buffer.alloc(MAX_SLICE + 16);

/**
 * `length` pseudo-random bytes that exist nowhere: AES-128-CTR's keystream under a key drawn
 * from `seed`, so any slice is computed from its offset alone (the counter is the offset in
 * 16-byte blocks) at gigabytes a second. The throughput benchmark serves files larger than a
 * Node buffer may be (4 GiB) and larger than it should hold in memory this way.
 */
export function generatedContent(length: number, seed: string): OriginContent & { sha256(): string } {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const slice = (start: number, end: number): Buffer => {
    const block = Math.floor(start / 16);
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64BE(BigInt(block), 8);
    const skip = start - block * 16;
    return createCipheriv('aes-128-ctr', key, iv).update(ZEROS.subarray(0, skip + (end - start))).subarray(skip);
  };
  return {
    length,
    slice,
    sha256() {
      const hash = createHash('sha256');
      for (let at = 0; at < length; at += MAX_SLICE) hash.update(slice(at, Math.min(length, at + MAX_SLICE)));
      return hash.digest('hex');
    },
  };
}

/** A file's sha256 hex, read in 1 MiB chunks (a downloaded copy may be larger than memory). */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
