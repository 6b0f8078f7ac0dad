/**
 * Wakes long-polling rounds when their task changes. A peer with nothing to fetch asks with
 * `holdMs`; instead of answering "wait" and being polled again, the supernode holds the request
 * until the task's next commit (a piece seeded, a piece reported, a slot freed) or the hold
 * expires. Versions make it race-free: a commit that landed before the wait began still wakes it.
 *
 * Memory follows the live actors, not every task ever committed here: a wait always starts
 * right after a command ran on the task's live actor, so the version of a task whose actor is
 * gone (passivated, evicted, its shard lost) is never needed again. `live` names the tasks with
 * an actor now; once the versions kept outgrow twice the count at the last sweep, the others are
 * dropped (amortised O(1) a commit). A waiter set goes with its last waiter, on a timeout too.
 */
export class TaskSignals {
  private readonly versions = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private sweepAt = MIN_SWEEP_AT;

  /** `live`: the task ids with a live actor (the runtime's liveTaskIds); without it nothing is swept (tests). */
  constructor(private readonly live?: () => Iterable<string>) {}

  /** How many tasks this keeps anything for (a version or waiters). */
  get trackedTasks(): number {
    let n = this.versions.size;
    for (const taskId of this.waiters.keys()) if (!this.versions.has(taskId)) n++;
    return n;
  }

  notify(taskId: string, version: number): void {
    if ((this.versions.get(taskId) ?? 0) >= version) return;
    this.versions.set(taskId, version);
    if (this.versions.size > this.sweepAt) this.sweep();
    const set = this.waiters.get(taskId);
    if (!set) return;
    this.waiters.delete(taskId);
    for (const wake of set) wake();
  }

  /** Resolves true once the task is past `sinceVersion`, false after `timeoutMs`. */
  changedSince(taskId: string, sinceVersion: number, timeoutMs: number): Promise<boolean> {
    if ((this.versions.get(taskId) ?? 0) > sinceVersion) return Promise.resolve(true);
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const set = this.waiters.get(taskId) ?? new Set<() => void>();
      this.waiters.set(taskId, set);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        set.delete(wake);
        if (set.size === 0 && this.waiters.get(taskId) === set) this.waiters.delete(taskId);
        resolve(false);
      }, timeoutMs);
      set.add(wake);
    });
  }

  /** Releases every held request (shutdown). */
  wakeAll(): void {
    for (const set of this.waiters.values()) for (const wake of set) wake();
    this.waiters.clear();
  }

  /** Drops the versions of tasks without a live actor and nobody waiting on them. */
  private sweep(): void {
    if (!this.live) {
      this.sweepAt = Infinity;
      return;
    }
    const live = new Set(this.live());
    for (const taskId of this.versions.keys()) {
      if (!live.has(taskId) && !this.waiters.has(taskId)) this.versions.delete(taskId);
    }
    this.sweepAt = Math.max(MIN_SWEEP_AT, 2 * this.versions.size);
  }
}

/** Below this many versions kept, no sweep runs (a few kilobytes). */
const MIN_SWEEP_AT = 256;
