import { setTimeout as sleep } from 'node:timers/promises';
import { createTokenBucket } from '../../core/rate/token-bucket.ts';

/**
 * A byte budget shared by everything that draws from it (all CDN uploads together, and the
 * origin fetch when configured so): `take(n)` resolves when n more bytes may be sent.
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

/** The pure bucket of core/rate, with the wait done here. */
export function tokenBucketThrottle(o: TokenBucketOptions): ByteThrottle {
  const now = o.now ?? (() => performance.now());
  const bucket = createTokenBucket({ bytesPerSecond: o.bytesPerSecond, burstBytes: o.burstBytes, nowMs: now() });
  return {
    async take(bytes, signal) {
      const wait = bucket.take(bytes, now());
      if (wait > 0) await sleep(wait, undefined, { signal });
    },
  };
}
