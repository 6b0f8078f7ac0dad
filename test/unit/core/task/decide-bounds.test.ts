import { describe, expect, it } from 'vitest';
import { MAX_FILE_SIZE, MAX_PIECE_COUNT } from '../../../../core/pieces/index.ts';
import { decide, type TaskCommand } from '../../../../core/task/index.ts';
import { WELL_FORMED_TEXT } from '../../../../core/wire/fields.ts';
import { OPTIONS, createCommand, run, seedingTask } from './fixtures.ts';

const probe = (contentLength: number, pieceSize?: number): TaskCommand => ({ type: 'RecordProbe', at: 2, contentLength, acceptRanges: true, etag: null, lastModified: null, pieceSize });
const created = () => run([createCommand()]).state;

/**
 * Issue 12, findings 2 and 4 at the decider: whatever the origin announced or an error quoted,
 * no event lays out an unbounded number of pieces, and none holds text PostgreSQL refuses.
 */
describe('RecordProbe bounds the layout', () => {
  it.each([Number.MAX_SAFE_INTEGER, MAX_FILE_SIZE + 1, 1e30])('refuses a %d-byte origin with DF_ERR_FILE_TOO_LARGE, laying nothing out', (len) => {
    expect(() => decide(probe(len), created(), OPTIONS)).toThrowError(expect.objectContaining({ code: 'DF_ERR_FILE_TOO_LARGE' }));
  });

  it('accepts the largest file, in the most pieces there may be', () => {
    const [event] = decide(probe(MAX_FILE_SIZE), created(), OPTIONS);
    expect(event).toMatchObject({ type: 'SourceProbed', data: { pieceCount: MAX_PIECE_COUNT } });
  });

  it('bounds the count when a piece size is given, too', () => {
    expect(() => decide(probe(MAX_PIECE_COUNT + 1, 1), created(), OPTIONS)).toThrowError(/DF_ERR_FILE_TOO_LARGE.*65537 pieces; the bound is 65536/);
    expect(decide(probe(MAX_PIECE_COUNT, 1), created(), OPTIONS)).toHaveLength(1);
  });
});

describe('FailTask stores its reason as text PostgreSQL accepts', () => {
  it('drops NULs and replaces unpaired surrogates, even where the 500-character cut splits a pair', () => {
    const fail = (reason: string): string => {
      const [event] = decide({ type: 'FailTask', at: 9, reason }, seedingTask(2), OPTIONS);
      return (event as { data: { reason: string } }).data.reason;
    };
    expect(fail('origin said: a\u0000b \uD800 c \uDC00 d 😀')).toBe('origin said: ab \uFFFD c \uFFFD d 😀');
    const cut = fail(`${'x'.repeat(499)}😀 tail`);
    expect(cut.length).toBeLessThanOrEqual(500);
    expect(cut).toMatch(WELL_FORMED_TEXT);
  });
});
