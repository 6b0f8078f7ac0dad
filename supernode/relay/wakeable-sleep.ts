/**
 * The relay's one timer. An idle wait (nothing to publish) ends early on `wake()`; a backoff
 * wait after a failure does not — a burst of appends must not hammer a broker that is down —
 * but both end on `interrupt()` (stop).
 */
export class WakeableSleep {
  private current: { done: () => void; wakeable: boolean } | undefined;
  /** A wake that arrived while nobody was idle: the next idle wait returns at once. */
  private pendingWake = false;

  idle(ms: number): Promise<void> {
    if (this.pendingWake) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return this.sleep(ms, true);
  }

  backoff(ms: number): Promise<void> {
    return this.sleep(ms, false);
  }

  wake(): void {
    if (this.current?.wakeable) this.current.done();
    else this.pendingWake = true;
  }

  /** Forget wakes that arrived before now (a pass that starts now sees their events anyway). */
  clearPendingWake(): void {
    this.pendingWake = false;
  }

  interrupt(): void {
    this.current?.done();
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.current?.done === done) this.current = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.current = { done, wakeable };
    });
  }
}
