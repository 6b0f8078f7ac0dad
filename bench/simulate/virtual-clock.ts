import type { SimClock } from '../control-plane/simulated-swarm.ts';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * Virtual time for a discrete-event simulation: `after` queues a callback (a binary heap by
 * time, then by order queued, so equal times run in the order they were set), `run` executes
 * them in time order until none is left or `until` says stop. Nothing waits for real time.
 */
export class VirtualClock implements SimClock {
  private heap: Timer[] = [];
  private seq = 0;
  private t = 0;

  now(): number {
    return this.t;
  }

  after(ms: number, fn: () => void): void {
    const timer = { at: this.t + ms, seq: this.seq++, fn };
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(timer, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = timer;
  }

  /** Runs timers in time order; stops when none is left or `until()` is true after one ran. Returns the virtual time then. */
  run(until: () => boolean = () => false): number {
    while (this.heap.length > 0) {
      const next = this.pop();
      this.t = next.at;
      next.fn();
      if (until()) break;
    }
    return this.t;
  }

  private pop(): Timer {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        let minTimer = last;
        if (l < h.length && earlier(h[l]!, minTimer)) {
          min = l;
          minTimer = h[l]!;
        }
        if (r < h.length && earlier(h[r]!, minTimer)) {
          min = r;
          minTimer = h[r]!;
        }
        if (min === i) break;
        h[i] = minTimer;
        i = min;
      }
      h[i] = last;
    }
    return top;
  }
}

function earlier(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
