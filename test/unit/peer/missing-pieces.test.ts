import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MissingPieces } from '../../../peer/dfget/missing-pieces.ts';

const fetchable = (m: MissingPieces) => Array.from({ length: m.fetchable }, (_, i) => m.known(i)).sort((a, b) => a - b);

describe('MissingPieces', () => {
  it('offers only the pieces whose digest is known, as the digests arrive', () => {
    const m = new MissingPieces(8);
    expect(m.fetchable).toBe(0);
    m.learnDigests(3);
    expect(fetchable(m)).toEqual([0, 1, 2]);
    m.remove(1);
    m.learnDigests(5);
    expect(fetchable(m)).toEqual([0, 2, 3, 4]);
    expect(m.size).toBe(7);
    m.remove(6); // landed before its digest counts here (not fetched by this peer): gone all the same
    m.learnDigests(8);
    expect(fetchable(m)).toEqual([0, 2, 3, 4, 5, 7]);
    expect(m.size).toBe(6);
  });

  it('agrees with a plain set under any interleaving of digests and landings', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.tuple(fc.boolean(), fc.nat()), { maxLength: 120 }),
      (n, steps) => {
        const m = new MissingPieces(n);
        const missing = new Set(Array.from({ length: n }, (_, p) => p));
        let upTo = 0;
        for (const [learn, x] of steps) {
          if (learn) {
            upTo = Math.max(upTo, x % (n + 1));
            m.learnDigests(upTo);
          } else {
            m.remove(x % n);
            missing.delete(x % n);
          }
          expect(m.size).toBe(missing.size);
          expect(fetchable(m)).toEqual([...missing].filter((p) => p < upTo).sort((a, b) => a - b));
        }
      },
    ));
  });
});
