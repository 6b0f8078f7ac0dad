import { describe, expect, it } from 'vitest';
import { chunkBytesFor, createThrottle, unthrottled } from '../../../edge/rate/index.ts';

describe('chunkBytesFor: how much a sender hands to the socket at once under a cap', () => {
  it('keeps 64 KiB under the low caps the swarm benchmarks impose, so responses sharing a budget interleave finely', () => {
    for (const rate of [256 * 1024, 1 << 20, 4 << 20]) expect(chunkBytesFor(createThrottle(rate)), String(rate)).toBe(64 * 1024);
  });

  it('grows with the cap, to 1 MiB at 64 MiB/s and beyond, and without a cap', () => {
    expect(chunkBytesFor(createThrottle(16 << 20))).toBe(256 * 1024);
    expect(chunkBytesFor(createThrottle(64 << 20))).toBe(1 << 20);
    expect(chunkBytesFor(createThrottle(16 * 2 ** 30))).toBe(1 << 20);
    expect(chunkBytesFor(unthrottled)).toBe(1 << 20);
  });
});
