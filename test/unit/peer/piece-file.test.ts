import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PieceFile } from '../../../peer/storage/piece-file.ts';

const PIECE = 1000;
const CONTENT = randomBytes(3 * PIECE + 123); // four pieces, the last one short
const piece = (n: number) => CONTENT.subarray(n * PIECE, Math.min(CONTENT.length, (n + 1) * PIECE));
const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let dir: string;
let out: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-piece-file-'));
  out = join(dir, 'file.bin');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('PieceFile', () => {
  it('writes pieces at their offsets in any order and commits the temp file to the output', async () => {
    const f = await PieceFile.create(out, { contentLength: CONTENT.length, pieceSize: PIECE });
    expect(f.tempPath).toMatch(/file\.bin\.damselfly-[0-9a-f]+\.tmp$/);
    expect(f.pieceCount).toBe(4);
    for (const n of [3, 1, 0, 2]) await f.writePiece(n, piece(n));
    expect(f.storedPieces()).toEqual([0, 1, 2, 3]);
    expect(await f.readPiece(3)).toEqual(piece(3));
    expect(await f.readPiece(1, 10, 20)).toEqual(piece(1).subarray(10, 30));
    await f.commit(digest(CONTENT));
    expect(await readFile(out)).toEqual(CONTENT);
    expect(await readdir(dir)).toEqual(['file.bin']);
    // Still serving after the rename (the uploader keeps going while the peer lingers).
    expect(await f.readPiece(0)).toEqual(piece(0));
    await f.close();
  });

  it('tracks only fully written pieces and refuses reads of the others', async () => {
    const f = await PieceFile.create(out, { contentLength: CONTENT.length, pieceSize: PIECE });
    await f.writePiece(2, piece(2));
    expect(f.has(2)).toBe(true);
    expect(f.has(0)).toBe(false);
    expect(f.isComplete).toBe(false);
    await expect(f.readPiece(0)).rejects.toThrow(/not stored/);
    await expect(f.readPiece(2, 900, 200)).rejects.toThrow(/outside piece/);
    await expect(f.writePiece(1, piece(3))).rejects.toThrow(/has 1000 bytes/);
    await expect(f.writePiece(4, Buffer.alloc(1))).rejects.toThrow(/out of range|piece 4/);
    expect(f.has(1)).toBe(false);
    await expect(f.commit()).rejects.toThrow(/1 of 4 pieces/);
    await f.abort();
  });

  it('on a whole-file digest mismatch removes the temp file and leaves no output', async () => {
    const f = await PieceFile.create(out, { contentLength: CONTENT.length, pieceSize: PIECE });
    for (let n = 0; n < 4; n++) await f.writePiece(n, piece(n));
    await expect(f.commit(digest(Buffer.from('something else')))).rejects.toMatchObject({ code: 'DF_ERR_DIGEST_MISMATCH' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('abort removes the temp file; an empty file commits at once', async () => {
    const f = await PieceFile.create(out, { contentLength: CONTENT.length, pieceSize: PIECE });
    await f.writePiece(0, piece(0));
    await f.abort();
    expect(await readdir(dir)).toEqual([]);
    const empty = await PieceFile.create(out, { contentLength: 0, pieceSize: PIECE });
    expect(empty.isComplete).toBe(true);
    await empty.commit(digest(Buffer.alloc(0)));
    expect((await readFile(out)).length).toBe(0);
    await empty.close();
  });
});

describe('PieceFile pieces kept in memory for uploads', () => {
  it('reads the same bytes whether a piece is kept in memory or read back from the file', async () => {
    // A budget of two pieces: the oldest written ones are read from the file again.
    const f = await PieceFile.create(out, { contentLength: CONTENT.length, pieceSize: PIECE }, 2 * PIECE);
    for (const n of [0, 1, 2, 3]) await f.writePiece(n, Buffer.from(piece(n)));
    for (const n of [0, 1, 2, 3]) {
      expect(await f.readPiece(n)).toEqual(piece(n));
      expect(await f.readPiece(n, 5, 50)).toEqual(piece(n).subarray(5, 55));
    }
    const none = await PieceFile.create(join(dir, 'other.bin'), { contentLength: CONTENT.length, pieceSize: PIECE }, 0);
    await none.writePiece(2, Buffer.from(piece(2)));
    expect(await none.readPiece(2)).toEqual(piece(2));
    await Promise.all([f.abort(), none.abort()]);
  });

  it('serves the pieces written last from memory, the older ones from the file', async () => {
    const f = await PieceFile.create(out, { contentLength: CONTENT.length, pieceSize: PIECE }, 2 * PIECE);
    for (const n of [0, 1, 2, 3]) await f.writePiece(n, Buffer.from(piece(n)));
    // Zero the file behind its back: only what is read from disk changes.
    await writeFile(f.tempPath, Buffer.alloc(CONTENT.length));
    expect(await f.readPiece(3)).toEqual(piece(3));
    expect(await f.readPiece(2)).toEqual(piece(2));
    expect(await f.readPiece(0)).toEqual(Buffer.alloc(PIECE));
    await f.abort();
  });
});

describe('PieceFile holdings (what peers choosing pieces are told)', () => {
  it('sets one bit per written piece, piece 0 in the high bit of byte 0, and hands out a copy', async () => {
    // Ten pieces: two bytes of bitfield, the last six bits of byte 1 spare.
    const f = await PieceFile.create(out, { contentLength: 9 * PIECE + 1, pieceSize: PIECE });
    const held = f.holdings();
    expect(held.count).toBe(0);
    expect(held.bitfield()).toEqual(new Uint8Array([0, 0]));
    for (const n of [0, 2, 9]) await f.writePiece(n, Buffer.alloc(n === 9 ? 1 : PIECE));
    await f.writePiece(2, Buffer.alloc(PIECE)); // written twice, counted once
    expect(held.count).toBe(3);
    const bits = held.bitfield();
    expect(bits).toEqual(new Uint8Array([0b1010_0000, 0b0100_0000]));
    expect(f.storedCount).toBe(3);
    expect(f.storedPieces()).toEqual([0, 2, 9]);
    expect([f.has(9), f.has(1), f.has(10), f.has(-1), f.has(0.5)]).toEqual([true, false, false, false, false]);
    bits[0] = 0xff;
    expect(f.has(1)).toBe(false);
    expect(held.bitfield()[0]).toBe(0b1010_0000);
    await f.abort();
    expect(held.count).toBe(0);
    expect(held.bitfield()).toEqual(new Uint8Array([0, 0]));
  });

  it('changed() resolves at the first write past the count, not before, and at once if already past', async () => {
    const f = await PieceFile.create(out, { contentLength: CONTENT.length, pieceSize: PIECE });
    const held = f.holdings();
    await f.writePiece(0, piece(0));
    let woke = 0;
    const waiting = held.changed(2, 10_000).then(() => (woke = held.count));
    await f.writePiece(1, piece(1));
    await new Promise((r) => setTimeout(r, 20));
    expect(woke).toBe(0); // count 2 is not above 2
    await f.writePiece(3, piece(3));
    await waiting;
    expect(woke).toBe(3);
    const started = performance.now();
    await held.changed(2, 10_000);
    expect(performance.now() - started).toBeLessThan(1000);
    await f.abort();
  });

  it('changed() resolves after its timeout with nothing new, and when the file is given up or the requester aborts', async () => {
    const f = await PieceFile.create(out, { contentLength: CONTENT.length, pieceSize: PIECE });
    const held = f.holdings();
    const started = performance.now();
    await held.changed(0, 60);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(held.count).toBe(0);

    const gone = new AbortController();
    const byRequester = held.changed(0, 10_000, gone.signal).then(() => 'aborted');
    gone.abort();
    expect(await Promise.race([byRequester, sleep(1000, 'still waiting')])).toBe('aborted');

    const byAbort = held.changed(0, 10_000).then(() => 'given up');
    await f.abort();
    expect(await Promise.race([byAbort, sleep(1000, 'still waiting')])).toBe('given up');
    // Given up for good: later waits do not wait.
    expect(await Promise.race([held.changed(0, 10_000).then(() => 'at once'), sleep(1000, 'still waiting')])).toBe('at once');

    const closed = await PieceFile.create(join(dir, 'closed.bin'), { contentLength: CONTENT.length, pieceSize: PIECE });
    const byClose = closed.holdings().changed(0, 10_000).then(() => 'closed');
    await closed.close();
    expect(await Promise.race([byClose, sleep(1000, 'still waiting')])).toBe('closed');
  });
});

function sleep<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}
