import { randomUUID } from 'node:crypto';
import { SCHEMA_VERSION, type NewEvent, type StoredEvent, type TaskEvent } from '../../core/events/index.ts';
import {
  decide,
  evolve,
  initialTaskSnapshot,
  snapshotFromState,
  stateOf,
  parseTaskState,
  storedTaskState,
  type TaskCommand,
  type TaskSnapshot,
} from '../../core/task/index.ts';
import type { SchedulingPolicy } from '../../core/scheduling/policy.ts';
import { DamselflyError, isDamselflyError } from '../../core/errors.ts';
import type { TaskState } from '../../core/task/index.ts';
import type { EventStore } from '../store/event-store.ts';
import { streamTail } from '../store/stream-tail.ts';
import type { OwnershipClaim } from '../cluster/shard-ownership.ts';
import type { CommandOutcome, PendingCommand, TaskActor } from './task-actor.ts';

export interface TaskRuntimeOptions {
  store: EventStore;
  policy: SchedulingPolicy;
  /**
   * Which tasks this replica may write, and with which fencing epoch (the shard leases,
   * supernode/cluster/shard-ownership.ts). Without it the runtime is the only writer, with
   * epoch 0 (unit tests, tools).
   */
  ownership?: {
    claim(taskId: string): OwnershipClaim | undefined;
    /** An append met a later epoch: the shard is someone else's now. */
    lost(shard: number): void;
  };
  /** A recent state of the task to catch up from instead of the stored snapshot (warm copies from Kafka). */
  warmStart?: (taskId: string) => { snapshot: TaskSnapshot; version: number } | undefined;
  /** The pieces this replica's CDN holds on disk for a task it takes over (recorded in OwnershipAcquired). */
  cdnPiecesFor?: (taskId: string, state: TaskState) => Promise<number[] | undefined>;
  /** Store a snapshot every this many events. */
  snapshotEvery: number;
  /**
   * Side effects of newly committed events (start the CDN seed, wake the relay, metrics).
   * Called only for live events, after they are durable — never during replay or rehydration.
   */
  onCommitted?: (taskId: string, events: StoredEvent[], snapshot: TaskSnapshot) => void;
  onBatch?: (events: number, commands: number, seconds: number) => void;
  /** A task actor was loaded: from where (warm copy, stored snapshot, or the first event) and how many events were read after it. */
  onRehydrated?: (start: 'warm' | 'snapshot' | 'empty', tailEvents: number) => void;
  newEventId?: () => string;
  /** Wall-clock milliseconds: the time OwnershipAcquired records, and when an actor was last used. */
  clock?: () => number;
  /** How many times a batch is re-decided after a version conflict before giving up. */
  maxConflictRetries?: number;
}

type Claim = { epoch: number; shard?: number; replicaId: string };
/** Without ownership (unit tests, tools): the only writer, epoch 0, no shard fence. */
const SOLE_WRITER: Claim = { epoch: 0, replicaId: 'sole' };

function notOwner(taskId: string): DamselflyError {
  return new DamselflyError('DF_ERR_NOT_OWNER', `this replica does not own task ${taskId} now`, { retryAfterMs: 200 });
}

/**
 * Runs one actor per active task: commands in, events decided by core/ and appended with the
 * expected version and this replica's epoch, state evolved through the pure transition.
 * A command is answered only after its events are committed (the acknowledgement rule).
 */
export class TaskRuntime {
  private readonly actors = new Map<string, TaskActor>();
  private readonly loading = new Map<string, Promise<TaskActor>>();
  private closed = false;

  private readonly clock: () => number;

  constructor(private readonly opts: TaskRuntimeOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  get liveActors(): number {
    return this.actors.size;
  }

  /** Executes a command (built from the current state if a function) against a task. */
  async execute(taskId: string, command: TaskCommand): Promise<CommandOutcome> {
    if (this.closed) throw Object.assign(new Error('supernode is shutting down'), { code: 'DF_ERR_UNAVAILABLE' });
    const actor = await this.actor(taskId);
    actor.lastUsedAt = this.clock();
    return new Promise<CommandOutcome>((resolve, reject) => {
      actor.mailbox.push({ command, resolve, reject });
      if (!actor.busy) void this.drainMailbox(actor);
    });
  }

  /** The task's current state (loading it from the store if it is not live). */
  async snapshot(taskId: string): Promise<TaskSnapshot> {
    return (await this.actor(taskId)).snapshot;
  }

  /** Task ids of the live actors. */
  liveTaskIds(): string[] {
    return [...this.actors.keys()];
  }

  /** Drops actors idle for longer than `idleMs` (they rehydrate from snapshot + tail on demand). */
  passivateIdle(idleMs: number, now = this.clock()): number {
    let dropped = 0;
    for (const [id, actor] of this.actors) {
      if (!actor.busy && actor.mailbox.length === 0 && now - actor.lastUsedAt > idleMs) {
        this.actors.delete(id);
        dropped++;
      }
    }
    return dropped;
  }

  /** Stops taking commands and waits until every mailbox is empty. */
  async drain(): Promise<void> {
    this.closed = true;
    while ([...this.actors.values()].some((a) => a.busy || a.mailbox.length > 0)) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Forgets a task's live state (e.g. after losing its ownership). */
  evict(taskId: string): void {
    this.actors.delete(taskId);
  }

  private async actor(taskId: string): Promise<TaskActor> {
    const live = this.actors.get(taskId);
    if (live) return live;
    let pending = this.loading.get(taskId);
    if (!pending) {
      pending = this.rehydrate(taskId).finally(() => this.loading.delete(taskId));
      this.loading.set(taskId, pending);
    }
    return pending;
  }

  /** Snapshot + tail: the stored snapshot (if any), then every event after it. */
  private async rehydrate(taskId: string): Promise<TaskActor> {
    const warm = this.opts.warmStart?.(taskId);
    const stored = await this.opts.store.loadSnapshot(taskId);
    let snapshot = stored ? snapshotFromState(parseTaskState(stored.state)) : initialTaskSnapshot(taskId);
    let version = stored?.version ?? 0;
    const start = warm && warm.version > version ? 'warm' : stored ? 'snapshot' : 'empty';
    if (start === 'warm') ({ snapshot, version } = warm!);
    let tailEvents = 0;
    for await (const tail of streamTail(this.opts.store, taskId, version)) {
      for (const e of tail) snapshot = evolve(snapshot, e);
      tailEvents += tail.length;
      version = tail[tail.length - 1]!.version;
    }
    this.opts.onRehydrated?.(start, tailEvents);
    const actor: TaskActor = {
      taskId,
      snapshot,
      version,
      snapshotVersion: stored?.version ?? 0,
      mailbox: [],
      busy: false,
      lastUsedAt: this.clock(),
    };
    this.actors.set(taskId, actor);
    return actor;
  }

  private async drainMailbox(actor: TaskActor): Promise<void> {
    actor.busy = true;
    try {
      while (actor.mailbox.length > 0) {
        const batch = actor.mailbox.splice(0, actor.mailbox.length);
        try {
          await this.runBatch(actor, batch);
        } catch (err) {
          // A reload or a takeover lookup failed (the store is away): answer every command of
          // the batch (a settled one ignores this) and forget the state, reloaded next time.
          this.actors.delete(actor.taskId);
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      actor.busy = false;
    }
  }

  /**
   * Decides every command of the batch in order against the evolving state, appends all their
   * events in one append, then answers each command. A command that decide() rejects fails
   * alone; a version conflict (another writer got in) reloads the task and re-decides the batch.
   */
  private async runBatch(actor: TaskActor, batch: PendingCommand[]): Promise<void> {
    const started = performance.now();
    const maxRetries = this.opts.maxConflictRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      const claim = this.opts.ownership ? this.opts.ownership.claim(actor.taskId) : SOLE_WRITER;
      if (!claim) {
        this.actors.delete(actor.taskId);
        for (const p of batch) p.reject(notOwner(actor.taskId));
        return;
      }
      let snapshot = actor.snapshot;
      const accepted: { pending: PendingCommand; events: NewEvent[]; after: TaskSnapshot }[] = [];
      const all: NewEvent[] = [];
      // A new term starts with OwnershipAcquired, before any other event of this replica: it
      // raises the stream's epoch, and tells every reader (replay, audit) who wrote from here on.
      const takeover = await this.takeoverEvents(actor.taskId, stateOf(snapshot), claim);
      if (takeover instanceof Error) {
        for (const p of batch) p.reject(takeover);
        return;
      }
      for (const e of takeover) snapshot = evolve(snapshot, e);
      all.push(...takeover);
      for (const pending of batch) {
        try {
          const events = decide(pending.command, stateOf(snapshot), { policy: this.opts.policy }).map((e: TaskEvent) => this.envelope(e));
          for (const e of events) snapshot = evolve(snapshot, e);
          accepted.push({ pending, events, after: snapshot });
          all.push(...events);
        } catch (err) {
          pending.reject(err);
        }
      }
      if (all.length === 0) {
        for (const a of accepted) a.pending.resolve({ events: [], snapshot: a.after });
        return;
      }
      try {
        const result = await this.opts.store.append(actor.taskId, actor.version, all, { epoch: claim.epoch, ...(claim.shard === undefined ? {} : { shard: claim.shard }) });
        actor.snapshot = snapshot;
        actor.version = result.version;
        let i = takeover.length;
        for (const a of accepted) {
          const committed = result.events.slice(i, i + a.events.length);
          i += a.events.length;
          a.pending.resolve({ events: committed, snapshot: a.after });
        }
        this.opts.onBatch?.(all.length, batch.length, (performance.now() - started) / 1000);
        this.opts.onCommitted?.(actor.taskId, result.events, snapshot);
        this.maybeSnapshot(actor);
        return;
      } catch (err) {
        // Only a version conflict is re-decided here: someone else appended (e.g. a former
        // owner's last write). Any other failure — the store unavailable, whose append may or
        // may not have committed — drops the live state: the next command reloads the truth.
        const retryable = isDamselflyError(err, 'DF_ERR_VERSION_CONFLICT');
        if (retryable && attempt < maxRetries) {
          const fresh = await this.rehydrate(actor.taskId);
          actor.snapshot = fresh.snapshot;
          actor.version = fresh.version;
          this.actors.set(actor.taskId, actor);
          batch = accepted.map((a) => a.pending);
          continue;
        }
        if (!retryable) this.actors.delete(actor.taskId);
        if (isDamselflyError(err, 'DF_ERR_STALE_EPOCH') && claim.shard !== undefined) {
          // Fenced: another replica holds the shard with a later epoch. Step down; the peer
          // asks again and reaches the new owner.
          this.opts.ownership?.lost(claim.shard);
          for (const a of accepted) a.pending.reject(notOwner(actor.taskId));
          return;
        }
        for (const a of accepted) a.pending.reject(err);
        return;
      }
    }
  }

  /** [OwnershipAcquired] when the task's last owner term is not this claim's, [] when it is; an Error if fenced. */
  private async takeoverEvents(taskId: string, state: TaskState, claim: Claim): Promise<NewEvent[] | Error> {
    if (claim.shard === undefined) return [];
    if (state.owner?.epoch === claim.epoch && state.owner.replicaId === claim.replicaId) return [];
    const cdnPieces = state.pieceCount ? await this.opts.cdnPiecesFor?.(taskId, state) : undefined;
    const command = { type: 'AcquireOwnership', at: this.clock(), replicaId: claim.replicaId, epoch: claim.epoch, ...(cdnPieces ? { cdnPieces } : {}) } as TaskCommand;
    try {
      return decide(command, state, { policy: this.opts.policy }).map((e: TaskEvent) => this.envelope(e));
    } catch (err) {
      if (!isDamselflyError(err, 'DF_ERR_STALE_EPOCH')) return err as Error;
      this.actors.delete(taskId);
      this.opts.ownership?.lost(claim.shard);
      return notOwner(taskId);
    }
  }

  /** Forgets the live state of every task of a shard (taken over: reload; lost: stop serving). */
  evictShard(shardOf: (taskId: string) => number, shard: number): void {
    for (const id of this.actors.keys()) if (shardOf(id) === shard) this.actors.delete(id);
  }

  private maybeSnapshot(actor: TaskActor): void {
    if (actor.version - actor.snapshotVersion < this.opts.snapshotEvery) return;
    const version = actor.version;
    actor.snapshotVersion = version;
    // Not on the acknowledgement path: a lost snapshot only means a longer replay next time.
    this.opts.store
      .saveSnapshot({ streamId: actor.taskId, version, state: storedTaskState(stateOf(actor.snapshot)) })
      .catch(() => {
        actor.snapshotVersion = 0;
      });
  }

  private envelope(e: TaskEvent): NewEvent {
    return { ...e, eventId: this.opts.newEventId?.() ?? randomUUID(), schemaVersion: SCHEMA_VERSION } as NewEvent;
  }
}
