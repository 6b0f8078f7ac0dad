/**
 * A token bucket in pure form: time comes in as an argument, so it is deterministic and the
 * same arithmetic serves the peer's uploader and downloader, the CDN and the benchmark origin
 * (throttle.ts does the waiting). It lets a taker go into debt: a take larger than what is
 * left returns how long to wait for the debt to be repaid, and later takers queue behind it,
 * so the aggregate rate holds however many streams share one bucket.
 */
export interface TokenBucket {
  /** Takes `bytes` at time `nowMs`; returns how many ms the taker must wait before sending. */
  take(bytes: number, nowMs: number): number;
}

export function createTokenBucket(o: { bytesPerSecond: number; burstBytes?: number; nowMs: number }): TokenBucket {
  const rate = o.bytesPerSecond;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number of bytes/s, got ${rate}`);
  const burst = o.burstBytes ?? Math.max(64 * 1024, rate / 4);
  if (!(burst > 0) || !Number.isFinite(burst)) throw new RangeError(`burst must be a positive number of bytes, got ${burst}`);
  let tokens = burst;
  let last = o.nowMs;
  return {
    take(bytes, nowMs) {
      tokens = Math.min(burst, tokens + (Math.max(0, nowMs - last) * rate) / 1000);
      last = Math.max(last, nowMs);
      tokens -= bytes;
      return tokens >= 0 ? 0 : (-tokens / rate) * 1000;
    },
  };
}
