import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FILE_SIZE, MAX_PIECE_COUNT, MAX_PIECE_SIZE, pieceCountFor, pieceSizeFor, requireFileSize } from '../../../../core/pieces/index.ts';

const TiB = 1024 ** 4;

/**
 * Finding 2 of issue 12: the piece layout sizes every per-piece array of a task, so the rule
 * must keep the count bounded for every length it accepts, and refuse the rest (an origin's
 * `Content-Length: 9007199254740991` once laid out ~5·10⁸ pieces and exhausted the heap).
 */
describe('the bounds of the piece layout', () => {
  it('accepts files up to 1 TiB, laid out in at most 65 536 pieces', () => {
    expect(MAX_FILE_SIZE).toBe(TiB);
    expect(MAX_PIECE_COUNT).toBe(65_536);
    expect(pieceSizeFor(MAX_FILE_SIZE)).toBe(MAX_PIECE_SIZE);
    expect(pieceCountFor(MAX_FILE_SIZE, pieceSizeFor(MAX_FILE_SIZE))).toBe(MAX_PIECE_COUNT);
  });

  it('keeps pieceCountFor(size, pieceSizeFor(size)) ≤ MAX_PIECE_COUNT for every size ≤ MAX_FILE_SIZE', () => {
    const size = fc.oneof(
      fc.integer({ min: 0, max: MAX_FILE_SIZE }),
      fc.integer({ min: MAX_FILE_SIZE - 64 * MAX_PIECE_SIZE, max: MAX_FILE_SIZE }),
      fc.integer({ min: 0, max: 40 }).map((bits) => Math.min(2 ** bits * 1024, MAX_FILE_SIZE)),
    );
    fc.assert(
      fc.property(size, (len) => {
        expect(pieceCountFor(len, pieceSizeFor(len))).toBeLessThanOrEqual(MAX_PIECE_COUNT);
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([MAX_FILE_SIZE + 1, 2 * TiB, Number.MAX_SAFE_INTEGER, 2 ** 60, 1e30, Infinity])('refuses %d bytes as too large, not as malformed', (len) => {
    expect(() => pieceSizeFor(len)).toThrowError(expect.objectContaining({ code: 'DF_ERR_FILE_TOO_LARGE', status: 413 }));
  });

  it('refuses above a lower configured bound, and never above the ceiling whatever the bound', () => {
    expect(() => requireFileSize(1024 * 1024 + 1, 1024 * 1024)).toThrowError(/DF_ERR_FILE_TOO_LARGE.*1048577 bytes.*1048576 bytes/);
    expect(() => requireFileSize(1024 * 1024, 1024 * 1024)).not.toThrow();
    expect(() => requireFileSize(MAX_FILE_SIZE + 1, 2 ** 60)).toThrowError(expect.objectContaining({ code: 'DF_ERR_FILE_TOO_LARGE' }));
  });

  it('still refuses lengths that are not byte counts as invalid', () => {
    for (const len of [-1, 1.5, NaN]) expect(() => requireFileSize(len)).toThrowError(expect.objectContaining({ code: 'DF_ERR_VALIDATION' }));
  });
});
