/**
 * Keeps an outage from flooding the log: the first occurrence of a key is let through, then at
 * most one every `everyMs`, each saying how many were held back since the previous one. A
 * failing relay retries every few seconds and kafkajs logs every retry of every request; one
 * line per outage and then a reminder now and then tells an operator as much.
 */
export class RepeatLimiter {
  private readonly keys = new Map<string, { lastAt: number; held: number }>();

  constructor(
    private readonly everyMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** undefined: stay quiet this time; else log, mentioning the count held back since the last one. */
  pass(key: string): number | undefined {
    const at = this.now();
    const seen = this.keys.get(key);
    if (seen && at - seen.lastAt < this.everyMs) {
      seen.held += 1;
      return undefined;
    }
    if (!seen && this.keys.size >= 1000) this.forgetOlderThan(at - this.everyMs);
    this.keys.set(key, { lastAt: at, held: 0 });
    return seen?.held ?? 0;
  }

  /** The condition behind `key` ended: forget it (the next occurrence logs at once); returns the count held back. */
  reset(key: string): number {
    const held = this.keys.get(key)?.held ?? 0;
    this.keys.delete(key);
    return held;
  }

  /** Keys are messages, some with varying parts (addresses, ids): old ones are dropped so the map stays small. */
  private forgetOlderThan(at: number): void {
    for (const [key, seen] of this.keys) if (seen.lastAt < at) this.keys.delete(key);
  }
}
