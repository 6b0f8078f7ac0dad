import type { StoredEvent } from '../../core/events/index.ts';
import { applyTaskEventInPlace, initialTaskState, parseTaskState, replay, snapshotFromState, stateOf, type TaskSnapshot, type TaskState } from '../../core/task/index.ts';
import type { EventStore } from '../store/event-store.ts';
import { streamTail } from '../store/stream-tail.ts';

interface WarmCopy {
  /** The fold of the events up to `foldedVersion`: this class's own, written in place. */
  state: TaskState;
  foldedVersion: number;
  /** Events after `foldedVersion`, not folded yet, in version order. */
  pending: StoredEvent[];
}

/** Pending events are folded in (with core's fast replay) once this many have gathered. */
const FOLD_EVERY = 256;
/** Copies kept by default (WarmCopiesOptions.maxCopies). */
export const DEFAULT_MAX_WARM_COPIES = 1024;

export interface WarmCopiesOptions {
  /**
   * The memory bound: beyond this many copies the one updated least recently is dropped. A copy
   * holds per-piece and per-peer state, so an unbounded set grows with every task the cluster
   * ever ran. A dropped copy costs a longer catch-up from the store on takeover (and a running
   * task whose copy was dropped resumes with its peers' next request, not at the takeover).
   */
  maxCopies?: number;
}

/**
 * Every task's state as the Kafka stream tells it, kept by every replica (issue 4: "replicas
 * keep warm copies of tasks from the Kafka stream"). On a takeover the runtime starts from the
 * warm copy and reads only the tail after it from the store, and the new owner knows at once
 * which tasks of the shard are still running (to resume their timers and seeding).
 *
 * Kept cheap, since every replica sees every event of the cluster: events are only queued as
 * they arrive and folded in batches with core's in-place reducer (about a microsecond an
 * event), never one XState transition each — that doubled the owner's CPU per event. A copy's
 * state is private and written in place; only get() (a takeover) clones it. Cloning it at
 * every fold instead (core's replay() from a snapshot) was 7 % of an owner's CPU with 200 peers.
 *
 * Kafka delivers at least once, and a replica reads the topic from where it was when the replica
 * started, not from its start (on a long-lived cluster that would be the whole retention): a
 * stream first seen mid-way is loaded from the store (`load`: snapshot + tail) before its
 * event is folded in, so only the tasks active since the start cost a read, once. A repeated
 * version is skipped, and a gap (a version missing) drops the copy until the stream's next
 * event loads it again — the store is the truth, so a missing copy only costs a longer catch-up.
 *
 * Bounded: at most `maxCopies`, least recently updated first out (the Map's order, an update
 * re-inserting its stream unless it is the newest already: O(1) an event); and a copy goes
 * once a fold finds its task failed, evicted, or seeded with no peer active (nobody to resume).
 */
export class WarmCopies {
  /** Least recently updated first. */
  private readonly copies = new Map<string, WarmCopy>();
  /** The stream updated last: it is at the end of `copies` already, or no longer in it. */
  private newest: string | undefined;
  private readonly maxCopies: number;

  /** `load`: a stream's state and version from the store; without it, copies start only at version 1. */
  constructor(
    private readonly load?: (taskId: string) => Promise<{ state: TaskState; version: number } | undefined>,
    opts: WarmCopiesOptions = {},
  ) {
    this.maxCopies = Math.max(1, opts.maxCopies ?? DEFAULT_MAX_WARM_COPIES);
  }

  get size(): number {
    return this.copies.size;
  }

  /**
   * Folds a batch in (resolves once any stream it had to load from the store is loaded). A failed
   * load leaves that copy out, and is not tried again within the batch: with the store away,
   * one attempt per event would hold the consumer up for a timeout per event.
   */
  async apply(events: readonly StoredEvent[]): Promise<void> {
    const failed = new Set<string>();
    for (const e of events) {
      if (e.version > 1 && this.load && !this.copies.has(e.streamId) && !failed.has(e.streamId)) {
        if (!(await this.loadFromStore(e.streamId))) failed.add(e.streamId);
      }
      const copy = this.copies.get(e.streamId);
      const version = copy ? copy.foldedVersion + copy.pending.length : 0;
      if (e.version <= version) continue; // a redelivery
      if (e.version !== version + 1) {
        this.copies.delete(e.streamId); // a gap: this copy cannot be trusted any more
        continue;
      }
      if (!copy) {
        this.keep(e.streamId, { state: initialTaskState(e.streamId), foldedVersion: 0, pending: [e] });
        continue;
      }
      if (e.streamId !== this.newest) this.keep(e.streamId, copy);
      copy.pending.push(e);
      if (copy.pending.length >= FOLD_EVERY) this.fold(e.streamId, copy);
    }
  }

  /** The task's state at the copy's version (a snapshot of its own), if a complete copy is kept. */
  get(taskId: string): { snapshot: TaskSnapshot; version: number } | undefined {
    const copy = this.current(taskId);
    return copy && { snapshot: snapshotFromState(structuredClone(copy.state)), version: copy.foldedVersion };
  }

  /**
   * Tasks that need an owner to act now — still seeding, or with peers still downloading —
   * among those `belongs` picks. A finished task is left alone: its next owner term starts
   * when a peer next asks for it, not with a write to every old task of the shard.
   */
  runningTasks(belongs: (taskId: string) => boolean): string[] {
    const running: string[] = [];
    for (const taskId of [...this.copies.keys()]) {
      if (!belongs(taskId)) continue;
      const state = this.current(taskId)?.state;
      if (!state) continue;
      if (needsOwner(state)) running.push(taskId);
    }
    return running;
  }

  /** Whether the store answered (with a copy, or with nothing stored yet). */
  private async loadFromStore(taskId: string): Promise<boolean> {
    const loaded = await this.load!(taskId).then((l) => l ?? null, () => undefined);
    if (loaded === undefined) return false;
    if (loaded && loaded.version > 0 && !this.copies.has(taskId)) this.keep(taskId, { state: loaded.state, foldedVersion: loaded.version, pending: [] });
    return true;
  }

  /** (Re-)inserts a copy as the newest, dropping the least recently updated one beyond maxCopies. */
  private keep(taskId: string, copy: WarmCopy): void {
    this.copies.delete(taskId);
    this.copies.set(taskId, copy);
    this.newest = taskId;
    if (this.copies.size > this.maxCopies) this.copies.delete(this.copies.keys().next().value!);
  }

  /** The copy with every pending event folded in, if it is still kept. */
  private current(taskId: string): WarmCopy | undefined {
    const copy = this.copies.get(taskId);
    if (copy) this.fold(taskId, copy);
    return this.copies.get(taskId);
  }

  private fold(taskId: string, copy: WarmCopy): void {
    if (copy.pending.length === 0) return;
    for (const e of copy.pending) applyTaskEventInPlace(copy.state, e);
    copy.foldedVersion += copy.pending.length;
    copy.pending = [];
    // Nobody resumes a failed or evicted task, nor a seeded one without an active peer (a peer
    // that joins it later loads it again): a read loads them from the store.
    if (!needsOwner(copy.state)) this.copies.delete(taskId);
  }
}

/** Still seeding, or seeded with peers still downloading: a task a new owner must resume. */
function needsOwner(state: TaskState): boolean {
  if (state.status === 'created' || state.status === 'seeding') return true;
  if (state.status !== 'seeded') return false;
  for (const peer of state.peers.values()) if (peer.status === 'active') return true;
  return false;
}

/** WarmCopies' `load` from the event store: the stored snapshot, if any, and the events after it. */
export function loadFromStore(store: Pick<EventStore, 'loadSnapshot' | 'readStream'>) {
  return async (taskId: string): Promise<{ state: TaskState; version: number }> => {
    const stored = await store.loadSnapshot(taskId);
    let version = stored?.version ?? 0;
    let snapshot: TaskSnapshot | string = stored ? snapshotFromState(parseTaskState(stored.state)) : taskId;
    for await (const tail of streamTail(store, taskId, version)) {
      snapshot = replay(tail, snapshot);
      version = tail[tail.length - 1]!.version;
    }
    return { state: typeof snapshot === 'string' ? initialTaskState(taskId) : stateOf(snapshot), version };
  };
}
