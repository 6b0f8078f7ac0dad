import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SLICE, bufferContent, generatedContent } from '../../../bench/swarm/origin-content.ts';

describe('generatedContent: bytes computed from their offset', () => {
  const length = 3 * MAX_SLICE + 12_345;
  const content = generatedContent(length, 'a seed');
  const whole = Buffer.concat(Array.from({ length: Math.ceil(length / MAX_SLICE) }, (_, i) => content.slice(i * MAX_SLICE, Math.min(length, (i + 1) * MAX_SLICE))));

  it('gives the same bytes for a range however it is sliced, and its sha256 is that of all of them', () => {
    expect(whole.length).toBe(length);
    expect(content.sha256()).toBe(createHash('sha256').update(whole).digest('hex'));
    fc.assert(fc.property(fc.integer({ min: 0, max: length - 1 }), fc.integer({ min: 1, max: MAX_SLICE }), (start, size) => {
      const end = Math.min(length, start + size);
      expect(content.slice(start, end).equals(whole.subarray(start, end))).toBe(true);
    }), { numRuns: 200 });
  });

  it('differs with the seed, and looks random (no long runs of one byte)', () => {
    expect(generatedContent(length, 'another seed').slice(0, 64).equals(content.slice(0, 64))).toBe(false);
    const counts = new Uint32Array(256);
    for (const b of whole.subarray(0, 1 << 20)) counts[b]!++;
    expect(Math.max(...counts) / Math.min(...counts)).toBeLessThan(1.2);
  });

  it('a buffer serves its own bytes', () => {
    const b = Buffer.from('0123456789');
    expect(bufferContent(b).slice(2, 5).toString()).toBe('234');
  });
});
