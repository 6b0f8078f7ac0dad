import { setTimeout as sleep } from 'node:timers/promises';
import { createTokenBucket } from '../../core/rate/token-bucket.ts';

/** A shared byte budget (bytes/s) for the peer's uploads or downloads: `take` waits as needed. */
export interface Throttle {
  take(bytes: number, signal?: AbortSignal): Promise<void>;
}

export function createThrottle(bytesPerSecond: number | undefined, burstBytes = 64 * 1024): Throttle | undefined {
  if (!bytesPerSecond) return undefined;
  const bucket = createTokenBucket({ bytesPerSecond, burstBytes, nowMs: performance.now() });
  return {
    async take(bytes, signal) {
      const wait = bucket.take(bytes, performance.now());
      if (wait > 0) await sleep(wait, undefined, { signal });
    },
  };
}
