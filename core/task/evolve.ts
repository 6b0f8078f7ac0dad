import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import type { TaskEvent } from '../events/index.ts';
import { taskMachine } from './task-machine.ts';
import { applyTaskEventInPlace } from './apply-task-event.ts';
import { initialTaskState, type TaskState } from './task-state.ts';

export type TaskSnapshot = SnapshotFrom<typeof taskMachine>;

/** The snapshot of a task stream before its first event. */
export function initialTaskSnapshot(taskId: string): TaskSnapshot {
  return initialTransition(taskMachine, { taskId })[0];
}

/**
 * One event folded in: XState's pure `transition`, whose returned actions are ignored: the
 * machine has no side-effect actions, and effects of live events run in the supernode, never
 * here, so replay cannot repeat them.
 */
export function evolve(snapshot: TaskSnapshot, event: TaskEvent): TaskSnapshot {
  return transition(taskMachine, snapshot, event)[0];
}

export function stateOf(snapshot: TaskSnapshot): TaskState {
  return snapshot.context;
}

/**
 * The snapshot for a stored state (e.g. loaded from a stream snapshot), to continue folding
 * from. The state value is the state's status, so the two always agree.
 */
export function snapshotFromState(state: TaskState): TaskSnapshot {
  return taskMachine.resolveState({ value: state.status, context: state });
}

/**
 * Folds `events` over `from`: a snapshot to continue from, or a task id to start from scratch
 * (default: the id in the first TaskCreated).
 *
 * Replay is the hot path of a takeover, so it runs the machine's own reducer in place over a
 * private copy of the starting state and makes one snapshot at the end, instead of one
 * `transition()` per event (about 60k/s here even for a trivial machine). It is the same fold:
 * the machine's only action is that reducer, and its state value is the status the reducer
 * writes (lifecycle.ts). test/unit/core/task checks the two agree on random histories.
 */
export function replay(events: Iterable<TaskEvent>, from?: TaskSnapshot | string): TaskSnapshot {
  let state = typeof from === 'object' ? structuredClone(from.context) : undefined;
  for (const event of events) {
    state ??= initialTaskState(startingId(typeof from === 'string' ? from : undefined, event));
    applyTaskEventInPlace(state, event);
  }
  if (state) return snapshotFromState(state);
  return typeof from === 'object' ? from : initialTaskSnapshot(from ?? '');
}

/** replay() through XState's `transition`, one event at a time: the reference replay() must match. */
export function replayByTransition(events: Iterable<TaskEvent>, from?: TaskSnapshot | string): TaskSnapshot {
  let snapshot = typeof from === 'object' ? from : undefined;
  for (const event of events) {
    snapshot ??= initialTaskSnapshot(startingId(typeof from === 'string' ? from : undefined, event));
    snapshot = evolve(snapshot, event);
  }
  return snapshot ?? initialTaskSnapshot(typeof from === 'string' ? from : '');
}

function startingId(from: string | undefined, first: TaskEvent): string {
  return from ?? (first.type === 'TaskCreated' ? first.data.taskId : '');
}
