import { pieceCountFor, pieceRange } from '../../core/pieces/index.ts';
import type { CdnStore } from './cdn-store.ts';

/**
 * What a task's state says about its layout and digests; a core TaskState fits as it is
 * (pieceSize and contentLength are null before the probe, pieces[p] null until seeded).
 */
export interface HeldPiecesQuery {
  pieceSize: number | null;
  contentLength: number | null;
  pieces: readonly ({ digest: string } | null)[];
}

/**
 * The pieces of a task this CDN holds on its local disk and can vouch for, ascending: recorded
 * in meta.json for the same layout with the digest the task knows for that piece, and present
 * with the size the layout gives it. This is what a replica reports when it takes a task over
 * (AcquireOwnership.cdnPieces): a piece stored here under another version of the file, or one
 * whose digest the task does not know yet, does not count — the CDN would serve the wrong
 * bytes, or bytes nobody can verify.
 *
 * Cost: one meta.json read and one stat per recorded piece.
 */
export async function heldPieces(store: CdnStore, taskId: string, task: HeldPiecesQuery): Promise<number[]> {
  const { pieceSize, contentLength } = task;
  if (pieceSize === null || contentLength === null) return [];
  const meta = await store.readMeta(taskId);
  if (!meta || meta.pieceSize !== pieceSize || meta.contentLength !== contentLength) return [];
  const count = pieceCountFor(contentLength, pieceSize);
  const held: number[] = [];
  for (const [key, entry] of Object.entries(meta.pieces)) {
    const piece = Number(key);
    if (!Number.isSafeInteger(piece) || piece < 0 || piece >= count) continue;
    const size = pieceRange(piece, pieceSize, contentLength).length;
    if (entry.size !== size || task.pieces[piece]?.digest !== entry.digest) continue;
    if ((await store.storedSize(taskId, piece)) === size) held.push(piece);
  }
  return held.sort((a, b) => a - b);
}
