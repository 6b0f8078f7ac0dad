import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A byte budget shared by everything that draws from it (all CDN uploads together, and the
 * origin fetch when configured so): `take(n)` resolves when n more bytes may be sent.
 *
 * This is a stop-gap: the pure token bucket of core/rate (written for the peer uploader) is
 * meant to replace the arithmetic here. Only `tokenBucketThrottle` needs to change then; the
 * CDN depends on the `ByteThrottle` interface alone.
 */
export interface ByteThrottle {
  take(bytes: number, signal?: AbortSignal): Promise<void>;
}

export const unthrottled: ByteThrottle = { take: async () => {} };

export interface TokenBucketOptions {
  bytesPerSecond: number;
  /** Bytes that may go out at once after an idle spell; default a quarter second's worth, ≥ 64 KiB. */
  burstBytes?: number;
  now?: () => number;
}

/**
 * A token bucket that lets takers go into debt: a take larger than the tokens left waits for
 * the debt to be repaid at the rate. Concurrent takers queue up naturally (each later taker
 * sees the larger debt), so the aggregate stays at the rate however many streams share it.
 */
export function tokenBucketThrottle(o: TokenBucketOptions): ByteThrottle {
  const rate = o.bytesPerSecond;
  if (!(rate > 0)) throw new RangeError('bytesPerSecond must be positive');
  const burst = o.burstBytes ?? Math.max(64 * 1024, rate / 4);
  const now = o.now ?? (() => performance.now());
  let tokens = burst;
  let last = now();
  return {
    async take(bytes, signal) {
      const t = now();
      tokens = Math.min(burst, tokens + ((t - last) * rate) / 1000);
      last = t;
      tokens -= bytes;
      if (tokens < 0) await sleep((-tokens / rate) * 1000, undefined, { signal });
    },
  };
}
