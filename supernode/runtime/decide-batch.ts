import { SCHEMA_VERSION, type NewEvent, type TaskEvent } from '../../core/events/index.ts';
import { EventFold, decide, snapshotFromState, stateOf, type TaskCommand, type TaskSnapshot, type TaskState } from '../../core/task/index.ts';
import type { SchedulingPolicy } from '../../core/scheduling/policy.ts';
import { isDamselflyError } from '../../core/errors.ts';
import type { PendingCommand } from './task-actor.ts';

/** The term this replica writes under: its fencing epoch, and the shard whose lease grants it (none: the only writer). */
export interface WriterClaim {
  epoch: number;
  shard?: number;
  replicaId: string;
}

/** What deciding a batch needs from the world: the policy, the time a new term starts, event ids, the CDN's disk. */
export interface BatchDeciding {
  policy: SchedulingPolicy;
  clock: () => number;
  newEventId: () => string;
  cdnPiecesFor: (taskId: string, state: TaskState) => Promise<number[] | undefined>;
}

export interface AcceptedCommand {
  pending: PendingCommand;
  events: NewEvent[];
}

/** A batch decided: what to append, and what each command's answer is once it is durable. */
export interface DecidedBatch {
  fenced: false;
  /** What to append, in order: the term's OwnershipAcquired (if any), then each accepted command's events. */
  events: NewEvent[];
  /** How many of `events` open the term (they answer no command). */
  takeover: number;
  accepted: AcceptedCommand[];
  rejected: { pending: PendingCommand; error: unknown }[];
  /** The task state after every event of `events`. */
  snapshot: TaskSnapshot;
}

/** `fenced`: the task's recorded owner holds a later epoch than this claim, so this replica must step down. */
export type BatchDecision = { fenced: true } | DecidedBatch;

/**
 * Decides a batch in order against the evolving state, writing nothing: the runtime appends
 * `events` in one append and answers the commands. A command that decide() refuses is rejected
 * alone. The only I/O is the CDN lookup for a term's OwnershipAcquired; if it throws, so does this.
 *
 * The batch's events are folded into one draft (EventFold) with the machine's own reducer, as
 * replay() does, and the snapshot is made once at the end: one copy of what the batch touches
 * instead of one per event, which with thousands of peers was a copy of the peers map per
 * event. Every command of the batch is answered from that final state.
 */
export async function decideBatch(
  taskId: string,
  snapshot: TaskSnapshot,
  batch: readonly PendingCommand[],
  claim: WriterClaim,
  deciding: BatchDeciding,
): Promise<BatchDecision> {
  // A new term starts with OwnershipAcquired, before any other event of this replica: it
  // raises the stream's epoch, and tells every reader (replay, audit) who wrote from here on.
  const acquire = await termStart(taskId, stateOf(snapshot), claim, deciding);
  const fold = new EventFold(stateOf(snapshot));
  let takeover: NewEvent[] = [];
  if (acquire) {
    try {
      takeover = step(acquire, fold, deciding);
    } catch (error) {
      if (isDamselflyError(error, 'DF_ERR_STALE_EPOCH')) return { fenced: true };
      // Without its term's first event no command of the batch may be written.
      return { fenced: false, events: [], takeover: 0, accepted: [], rejected: batch.map((pending) => ({ pending, error })), snapshot };
    }
  }
  const accepted: AcceptedCommand[] = [];
  const rejected: { pending: PendingCommand; error: unknown }[] = [];
  for (const pending of batch) {
    try {
      accepted.push({ pending, events: step(pending.command, fold, deciding) });
    } catch (error) {
      rejected.push({ pending, error });
    }
  }
  const events = [...takeover, ...accepted.flatMap((a) => a.events)];
  return { fenced: false, events, takeover: takeover.length, accepted, rejected, snapshot: events.length > 0 ? snapshotFromState(fold.state) : snapshot };
}

/** AcquireOwnership when the task's last owner term is not this claim's; undefined when it is, or without a shard. */
async function termStart(taskId: string, state: TaskState, claim: WriterClaim, deciding: BatchDeciding): Promise<TaskCommand | undefined> {
  if (claim.shard === undefined) return undefined;
  if (state.owner?.epoch === claim.epoch && state.owner.replicaId === claim.replicaId) return undefined;
  const cdnPieces = state.pieceCount ? await deciding.cdnPiecesFor(taskId, state) : undefined;
  return { type: 'AcquireOwnership', at: deciding.clock(), replicaId: claim.replicaId, epoch: claim.epoch, ...(cdnPieces ? { cdnPieces } : {}) } as TaskCommand;
}

/** One command's events, with their envelopes, folded into `fold`; throws what decide() throws (then nothing is folded). */
function step(command: TaskCommand, fold: EventFold, deciding: BatchDeciding): NewEvent[] {
  const events = decide(command, fold.state, { policy: deciding.policy }).map((e: TaskEvent) => envelope(e, deciding));
  for (const e of events) fold.apply(e);
  return events;
}

function envelope(e: TaskEvent, deciding: BatchDeciding): NewEvent {
  return { ...e, eventId: deciding.newEventId(), schemaVersion: SCHEMA_VERSION } as NewEvent;
}
