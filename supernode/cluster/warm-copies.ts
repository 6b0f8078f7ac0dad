import type { StoredEvent } from '../../core/events/index.ts';
import { evolve, initialTaskSnapshot, stateOf, type TaskSnapshot } from '../../core/task/index.ts';

interface WarmCopy {
  snapshot: TaskSnapshot;
  version: number;
}

/**
 * Every task's state as the Kafka stream tells it, kept by every replica (issue 4: "replicas
 * keep warm copies of tasks from the Kafka stream"). On a takeover the runtime starts from the
 * warm copy and reads only the tail after it from the store, and the new owner knows at once
 * which tasks of the shard are still running (to resume their timers and seeding).
 *
 * Kafka delivers at least once and a consumer may start mid-stream: a copy is built only from a
 * stream's first event, a repeated version is skipped, and a gap (a version missing) drops the
 * copy — the store is the truth, so a missing copy only costs a longer catch-up.
 */
export class WarmCopies {
  private readonly copies = new Map<string, WarmCopy>();

  get size(): number {
    return this.copies.size;
  }

  apply(events: readonly StoredEvent[]): void {
    for (const e of events) {
      const copy = this.copies.get(e.streamId);
      const version = copy?.version ?? 0;
      if (e.version <= version) continue; // a redelivery
      if (e.version !== version + 1) {
        this.copies.delete(e.streamId); // a gap: this copy cannot be trusted any more
        continue;
      }
      const snapshot = evolve(copy?.snapshot ?? initialTaskSnapshot(e.streamId), e);
      const status = stateOf(snapshot).status;
      // Finished tasks need no warm copy: nobody resumes them, a read loads them from the store.
      if (status === 'failed' || status === 'evicted') this.copies.delete(e.streamId);
      else this.copies.set(e.streamId, { snapshot, version: e.version });
    }
  }

  /** The task's state at the copy's version, if a complete copy is kept. */
  get(taskId: string): WarmCopy | undefined {
    return this.copies.get(taskId);
  }

  /**
   * Tasks that need an owner to act now — still seeding, or with peers still downloading —
   * among those `belongs` picks. A finished task is left alone: its next owner term starts
   * when a peer next asks for it, not with a write to every old task of the shard.
   */
  runningTasks(belongs: (taskId: string) => boolean): string[] {
    const running: string[] = [];
    for (const [taskId, { snapshot }] of this.copies) {
      if (!belongs(taskId)) continue;
      const state = stateOf(snapshot);
      if (state.status === 'created' || state.status === 'seeding' || Object.values(state.peers).some((p) => p.status === 'active')) running.push(taskId);
    }
    return running;
  }
}
