import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTokenBucket } from '../../../edge/rate/token-bucket.ts';

describe('token bucket (pure)', () => {
  it('lets a burst through at once, then makes takers wait for the rate', () => {
    const b = createTokenBucket({ bytesPerSecond: 1000, burstBytes: 500, nowMs: 0 });
    expect(b.take(500, 0)).toBe(0);
    expect(b.take(1000, 0)).toBeCloseTo(1000); // 1000 bytes of debt at 1000 B/s
    expect(b.take(500, 0)).toBeCloseTo(1500); // queued behind the first debt
    expect(b.take(100, 3000)).toBe(0); // debt repaid, bucket refilled (capped at burst)
  });

  it('never refills beyond the burst after an idle spell', () => {
    const b = createTokenBucket({ bytesPerSecond: 100, burstBytes: 50, nowMs: 0 });
    expect(b.take(50, 1_000_000)).toBe(0);
    expect(b.take(100, 1_000_000)).toBeCloseTo(1000);
  });

  it('rejects nonsense rates and bursts', () => {
    expect(() => createTokenBucket({ bytesPerSecond: 0, nowMs: 0 })).toThrow(/rate/);
    expect(() => createTokenBucket({ bytesPerSecond: Number.NaN, nowMs: 0 })).toThrow(/rate/);
    expect(() => createTokenBucket({ bytesPerSecond: 10, burstBytes: -1, nowMs: 0 })).toThrow(/burst/);
  });

  it('holds the rate for any sequence of takes: bytes sent by time t ≤ burst + rate·t', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.record({ bytes: fc.integer({ min: 0, max: 2_000_000 }), gapMs: fc.integer({ min: 0, max: 5000 }) }), { maxLength: 60 }),
        (rate, burst, takes) => {
          const b = createTokenBucket({ bytesPerSecond: rate, burstBytes: burst, nowMs: 0 });
          let now = 0;
          let sent = 0;
          for (const t of takes) {
            now += t.gapMs;
            const wait = b.take(t.bytes, now);
            expect(wait).toBeGreaterThanOrEqual(0);
            sent += t.bytes;
            // The taker sends at now + wait: everything sent so far fits the envelope then.
            expect(sent).toBeLessThanOrEqual(burst + (rate * (now + wait)) / 1000 + 1e-6 * sent + 1);
          }
        },
      ),
    );
  });

  it('is not wasteful: back-to-back takers finish exactly when the rate allows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 40 }), (rate, sizes) => {
        const burst = 1000;
        const b = createTokenBucket({ bytesPerSecond: rate, burstBytes: burst, nowMs: 0 });
        let last = 0;
        for (const n of sizes) last = b.take(n, 0);
        const total = sizes.reduce((s, n) => s + n, 0);
        expect(last).toBeCloseTo((Math.max(0, total - burst) / rate) * 1000, 3);
      }),
    );
  });
});
