import { describe, expect, it } from 'vitest';
import { parseByteRange } from '../../../edge/http/byte-range.ts';

describe('parseByteRange', () => {
  it.each([
    ['bytes=0-99', 1000, { start: 0, end: 99 }],
    ['bytes=900-', 1000, { start: 900, end: 999 }],
    ['bytes=900-5000', 1000, { start: 900, end: 999 }],
    ['bytes=-100', 1000, { start: 900, end: 999 }],
    ['bytes=-5000', 1000, { start: 0, end: 999 }],
    [' bytes=5-5 ', 1000, { start: 5, end: 5 }],
  ])('%s of %i bytes → %o', (header, size, want) => {
    expect(parseByteRange(header, size)).toEqual(want);
  });

  it.each([
    ['bytes=1000-', 1000],
    ['bytes=-0', 1000],
    ['bytes=0-', 0],
  ])('%s of %i bytes is unsatisfiable', (header, size) => {
    expect(parseByteRange(header, size)).toBe('unsatisfiable');
  });

  it.each([undefined, '', 'bytes=-', 'items=0-1', 'bytes=5-1', 'bytes=0-1,5-9', 'bytes=a-b'])('ignores %s (whole piece)', (header) => {
    expect(parseByteRange(header, 1000)).toBeUndefined();
  });
});
