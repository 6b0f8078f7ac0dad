import { randomUUID } from 'node:crypto';
import type { StoredEvent } from '../../core/events/index.ts';
import {
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
import type { AppendResult, EventStore } from '../store/event-store.ts';
import { streamTail } from '../store/stream-tail.ts';
import type { OwnershipClaim } from '../cluster/shard-ownership.ts';
import { decideBatch, type AcceptedCommand, type BatchDeciding, type DecidedBatch, type WriterClaim } from './decide-batch.ts';
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

/**
 * How long an idle actor waits for more syncs before deciding one: gathering them lets one
 * append carry several (like Kafka's linger.ms). Syncs are periodic and nobody waits on their
 * latency, while an append costs the embedded store milliseconds whatever it holds. Only an
 * actor whose mailbox holds nothing but syncs waits.
 */
const SYNC_LINGER_MS = 25;

/**
 * The most commands decided and appended as one batch. Deciding is synchronous: 2,000 peers'
 * first syncs in one batch held the event loop for seconds, long enough for this replica's
 * shard leases to lapse (answered NOT_OWNER). A larger burst is cut into batches with the
 * event loop free between them (lease renewals, other tasks, HTTP).
 */
const MAX_BATCH = 200;

/** Without ownership (unit tests, tools): the only writer, epoch 0, no shard fence. */
const SOLE_WRITER: WriterClaim = { epoch: 0, replicaId: 'sole' };

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
  private readonly deciding: BatchDeciding;

  constructor(private readonly opts: TaskRuntimeOptions) {
    this.clock = opts.clock ?? Date.now;
    this.deciding = {
      policy: opts.policy,
      clock: this.clock,
      newEventId: () => opts.newEventId?.() ?? randomUUID(),
      cdnPiecesFor: (taskId, state) => opts.cdnPiecesFor?.(taskId, state) ?? Promise.resolve(undefined),
    };
  }

  get liveActors(): number {
    return this.actors.size;
  }

  /** Executes a command (built from the current state if a function) against a task. */
  async execute(taskId: string, command: TaskCommand): Promise<CommandOutcome> {
    if (this.closed) throw new DamselflyError('DF_ERR_UNAVAILABLE', 'supernode is shutting down');
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

  /** Loads the task's state and registers its actor: the one place an actor joins `actors`. */
  private async rehydrate(taskId: string): Promise<TaskActor> {
    const state = await this.loadState(taskId);
    const actor: TaskActor = { taskId, ...state, mailbox: [], busy: false, lastUsedAt: this.clock() };
    this.actors.set(taskId, actor);
    return actor;
  }

  /**
   * Snapshot + tail: the stored snapshot (or a newer warm copy), then every event after it.
   * Registers nothing; every load is counted in onRehydrated.
   */
  private async loadState(taskId: string): Promise<Pick<TaskActor, 'snapshot' | 'version' | 'snapshotVersion'>> {
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
    return { snapshot, version, snapshotVersion: stored?.version ?? 0 };
  }

  private async drainMailbox(actor: TaskActor): Promise<void> {
    actor.busy = true;
    try {
      if (actor.mailbox.every((p) => p.command.type === 'Sync')) await new Promise((r) => setTimeout(r, SYNC_LINGER_MS));
      while (actor.mailbox.length > 0) {
        const batch = actor.mailbox.splice(0, MAX_BATCH);
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
   * Decides the batch (decideBatch), appends all its events in one append with the expected
   * version and this replica's epoch, then answers each command. A version conflict (another
   * writer got in) catches the actor up from the store and re-decides the accepted commands,
   * at most maxConflictRetries times.
   */
  private async runBatch(actor: TaskActor, batch: PendingCommand[]): Promise<void> {
    const started = performance.now();
    const maxRetries = this.opts.maxConflictRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      const claim = this.opts.ownership ? this.opts.ownership.claim(actor.taskId) : SOLE_WRITER;
      if (!claim) return this.stepDown(actor, batch);
      const decision = await decideBatch(actor.taskId, actor.snapshot, batch, claim, this.deciding);
      if (decision.fenced) return this.stepDown(actor, batch, claim.shard);
      for (const { pending, error } of decision.rejected) pending.reject(error);
      if (decision.events.length === 0) return answer(decision.accepted, [], 0, decision.snapshot);

      const fence = { epoch: claim.epoch, ...(claim.shard === undefined ? {} : { shard: claim.shard }) };
      const appended = await settle(() => this.opts.store.append(actor.taskId, actor.version, decision.events, fence));
      if (appended.ok) return this.acknowledge(actor, decision, appended.value, batch.length, started);

      const accepted = decision.accepted.map((a) => a.pending);
      if (isDamselflyError(appended.error, 'DF_ERR_VERSION_CONFLICT') && attempt < maxRetries) {
        // Someone else appended (e.g. a former owner's last write): catch up in place, this
        // actor staying the registered one, and decide again.
        ({ snapshot: actor.snapshot, version: actor.version } = await this.loadState(actor.taskId));
        batch = accepted;
        continue;
      }
      if (isDamselflyError(appended.error, 'DF_ERR_STALE_EPOCH') && claim.shard !== undefined) {
        return this.stepDown(actor, accepted, claim.shard);
      }
      return this.fail(actor, accepted, appended.error);
    }
  }

  /** The batch is durable: the actor moves on, each command gets its events, then the side effects run. */
  private acknowledge(actor: TaskActor, decision: DecidedBatch, result: AppendResult, commands: number, started: number): void {
    actor.snapshot = decision.snapshot;
    actor.version = result.version;
    answer(decision.accepted, result.events, decision.takeover, decision.snapshot);
    this.opts.onBatch?.(decision.events.length, commands, (performance.now() - started) / 1000);
    this.opts.onCommitted?.(actor.taskId, result.events, decision.snapshot);
    this.maybeSnapshot(actor);
  }

  /**
   * The one place this replica stops serving a task: forget its live state, tell the leases a
   * fenced shard is lost (another replica holds it with a later epoch), and answer NOT_OWNER —
   * retryable, so the peer asks again and reaches the new owner.
   */
  private stepDown(actor: TaskActor, commands: readonly PendingCommand[], fencedShard?: number): void {
    this.evict(actor.taskId);
    if (fencedShard !== undefined) this.opts.ownership?.lost(fencedShard);
    for (const c of commands) c.reject(notOwner(actor.taskId));
  }

  /**
   * An append that failed for good. A conflict past the retries keeps the live state (the next
   * batch conflicts and catches up); any other failure — the store unavailable, whose append may
   * or may not have committed — drops it: the next command reloads the truth.
   */
  private fail(actor: TaskActor, commands: readonly PendingCommand[], err: unknown): void {
    if (!isDamselflyError(err, 'DF_ERR_VERSION_CONFLICT')) this.evict(actor.taskId);
    for (const c of commands) c.reject(err);
  }

  /** Forgets the live state of every task of a shard (taken over: reload; lost: stop serving). */
  evictShard(shardOf: (taskId: string) => number, shard: number): void {
    for (const id of this.actors.keys()) if (shardOf(id) === shard) this.actors.delete(id);
  }

  /**
   * A snapshot every snapshotEvery events, and no more often than once per 10 events a peer:
   * a snapshot holds every peer (O(peers × pieces) of JSON), so with a fixed interval its cost
   * per event would grow with the swarm; this way it stays O(pieces) per event, and a reload
   * replays at most ten times as many events as the task has peers (a few per peer on the sync
   * protocol; replay folds about 100,000 a second).
   */
  private maybeSnapshot(actor: TaskActor): void {
    const every = Math.max(this.opts.snapshotEvery, 10 * stateOf(actor.snapshot).peers.size);
    if (actor.version - actor.snapshotVersion < every) return;
    const version = actor.version;
    actor.snapshotVersion = version;
    // Not on the acknowledgement path: a lost snapshot only means a longer replay next time.
    this.opts.store
      .saveSnapshot({ streamId: actor.taskId, version, state: storedTaskState(stateOf(actor.snapshot)) })
      .catch(() => {
        actor.snapshotVersion = 0;
      });
  }
}

/** Resolves each accepted command with its own events of `committed` (which start with `skip` events of the term) and the state after the batch. */
function answer(accepted: readonly AcceptedCommand[], committed: readonly StoredEvent[], skip: number, snapshot: TaskSnapshot): void {
  let i = skip;
  for (const a of accepted) {
    a.pending.resolve({ events: committed.slice(i, i + a.events.length), snapshot });
    i += a.events.length;
  }
}

/** A call's result or what it threw, as a value (a synchronous throw included). */
async function settle<T>(call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error };
  }
}
