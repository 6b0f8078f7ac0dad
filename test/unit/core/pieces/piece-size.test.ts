import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_PIECE_SIZE,
  MIN_PIECE_SIZE,
  TARGET_PIECES,
  pieceCountFor,
  pieceRange,
  pieceSizeFor,
} from '../../../../core/pieces/index.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const length = fc.oneof(fc.integer({ min: 0, max: 1024 * 1024 }), fc.integer({ min: 0, max: 64 * GiB }));

describe('pieceSizeFor', () => {
  it.each([
    [0, MIN_PIECE_SIZE],
    [1, MIN_PIECE_SIZE],
    [64 * MiB, 256 * 1024],
    [128 * MiB, 512 * 1024],
    [GiB, 4 * MiB],
    [3 * GiB, 8 * MiB],
    [4 * GiB, 16 * MiB],
    [10 * GiB, 16 * MiB],
  ])('%d bytes → %d-byte pieces', (len, size) => {
    expect(pieceSizeFor(len)).toBe(size);
  });

  it('gives a 64 MiB file 256 pieces, enough to pipeline a swarm of 20', () => {
    expect(pieceCountFor(64 * MiB, pieceSizeFor(64 * MiB))).toBe(256);
  });

  it('is a power of two within the bounds and never decreases with length', () => {
    fc.assert(
      fc.property(length, length, (a, b) => {
        const size = pieceSizeFor(a);
        expect(size).toBeGreaterThanOrEqual(MIN_PIECE_SIZE);
        expect(size).toBeLessThanOrEqual(MAX_PIECE_SIZE);
        expect(Math.log2(size) % 1).toBe(0);
        if (a <= b) expect(pieceSizeFor(a)).toBeLessThanOrEqual(pieceSizeFor(b));
      }),
    );
  });

  it('yields [256, 512) pieces wherever the clamp does not bite', () => {
    fc.assert(
      fc.property(fc.integer({ min: TARGET_PIECES * MIN_PIECE_SIZE, max: TARGET_PIECES * MAX_PIECE_SIZE * 2 - 1 }), (len) => {
        const count = pieceCountFor(len, pieceSizeFor(len));
        expect(count).toBeGreaterThanOrEqual(TARGET_PIECES);
        expect(count).toBeLessThanOrEqual(2 * TARGET_PIECES);
      }),
    );
  });

  it('rejects negative and fractional lengths', () => {
    expect(() => pieceSizeFor(-1)).toThrowError(expect.objectContaining({ code: 'DF_ERR_VALIDATION' }));
    expect(() => pieceSizeFor(1.5)).toThrowError(expect.objectContaining({ code: 'DF_ERR_VALIDATION' }));
  });
});

describe('pieceRange', () => {
  it('tiles the content exactly: contiguous, no overlap, only the last piece short', () => {
    fc.assert(
      fc.property(length, (len) => {
        const size = pieceSizeFor(len);
        const count = pieceCountFor(len, size);
        let next = 0;
        const bad: number[] = [];
        for (let p = 0; p < count; p++) {
          const r = pieceRange(p, size, len);
          if (r.offset !== next || r.length <= 0 || (p < count - 1 && r.length !== size)) bad.push(p);
          next += r.length;
        }
        expect(bad).toEqual([]);
        expect(next).toBe(len);
        expect(() => pieceRange(count, size, len)).toThrowError(expect.objectContaining({ code: 'DF_ERR_PIECE_OUT_OF_RANGE' }));
      }),
      { numRuns: 200 },
    );
  });

  it('works for any piece size, not only the rule’s', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 1_000 }), (len, size) => {
        const count = pieceCountFor(len, size);
        const last = pieceRange(count - 1, size, len);
        expect(last.offset + last.length).toBe(len);
        expect(last.length).toBeLessThanOrEqual(size);
      }),
    );
  });

  it('rejects negative pieces', () => {
    expect(() => pieceRange(-1, 10, 100)).toThrowError(expect.objectContaining({ code: 'DF_ERR_PIECE_OUT_OF_RANGE' }));
  });
});
