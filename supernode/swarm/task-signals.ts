/**
 * Wakes long-polling rounds when their task changes. A peer with nothing to fetch asks with
 * `holdMs`; instead of answering "wait" and being polled again, the supernode holds the request
 * until the task's next commit (a piece seeded, a piece reported, a slot freed) or the hold
 * expires. Versions make it race-free: a commit that landed before the wait began still wakes it.
 */
export class TaskSignals {
  private readonly versions = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();

  notify(taskId: string, version: number): void {
    if ((this.versions.get(taskId) ?? 0) >= version) return;
    this.versions.set(taskId, version);
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
      let set = this.waiters.get(taskId);
      if (!set) this.waiters.set(taskId, (set = new Set()));
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        set!.delete(wake);
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
}
