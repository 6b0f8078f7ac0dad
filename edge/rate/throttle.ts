import { setTimeout as sleep } from 'node:timers/promises';
import { createTokenBucket } from './token-bucket.ts';

/**
 * A byte budget shared by everything that draws from it (all uploads of one server, a peer's
 * downloads, the CDN's origin fetch when it shares the upload cap): `take(n)` resolves when n
 * more bytes may go.
 */
export interface Throttle {
  take(bytes: number, signal?: AbortSignal): Promise<void>;
  /** The cap, bytes/s; undefined when there is none. */
  readonly bytesPerSecond?: number;
}

export const unthrottled: Throttle = Object.freeze({ take: async () => {} });

/**
 * How many bytes a sender should hand to `take` (and to the socket) at once under `throttle`:
 * a 64th of a second's budget, between 64 KiB and 1 MiB. Small under a low cap, so that the
 * responses sharing one budget interleave finely; large when the cap is high or absent, so that
 * a fast link is not spent on per-chunk promises and socket writes (measured: a quarter of the
 * CDN's main thread at 16 GiB/s with 64 KiB chunks).
 */
export function chunkBytesFor(throttle: Throttle): number {
  const rate = throttle.bytesPerSecond ?? Infinity;
  return Math.min(1024 * 1024, Math.max(64 * 1024, 2 ** Math.floor(Math.log2(Math.min(rate, 2 ** 40) / 64))));
}

export interface ThrottleOptions {
  /** Bytes that may go at once after an idle spell; default a quarter second's worth, at least 64 KiB. */
  burstBytes?: number;
  /** Milliseconds, monotonic; default performance.now. */
  now?: () => number;
}

/** The pure token bucket with the wait done here; no rate (undefined or 0) is `unthrottled`. */
export function createThrottle(bytesPerSecond: number | undefined, o: ThrottleOptions = {}): Throttle {
  if (!bytesPerSecond) return unthrottled;
  const now = o.now ?? (() => performance.now());
  const bucket = createTokenBucket({ bytesPerSecond, burstBytes: o.burstBytes, nowMs: now() });
  return {
    bytesPerSecond,
    async take(bytes, signal) {
      const wait = bucket.take(bytes, now());
      if (wait > 0) await sleep(wait, undefined, { signal });
    },
  };
}

/**
 * A burst of one 64 KiB read chunk: the peer's throttles (uploads and downloads) and the
 * benchmark origin have used it since the first swarm benchmark; the CDN keeps the default
 * (a quarter second's worth).
 */
export const CHUNK_BURST_BYTES = 64 * 1024;
