import { assign, setup } from 'xstate';
import type { TaskEvent, TaskEventType } from '../events/index.ts';
import { applyTaskEvent } from './apply-task-event.ts';
import { LIFECYCLE, TASK_STATUSES } from './lifecycle.ts';
import { initialTaskState, type TaskState, type TaskStatus } from './task-state.ts';

/** Every event type, so that each one is accepted in every state (evolve is total). */
export const TASK_EVENT_TYPES: readonly TaskEventType[] = [
  'TaskCreated',
  'SourceProbed',
  'PiecesSeeded',
  'PeerJoined',
  'PiecesAssigned',
  'ParentsAssigned',
  'PiecesReported',
  'AssignmentsExpired',
  'PeerLeft',
  'PeerSucceeded',
  'PeerFailed',
  'TaskSucceeded',
  'TaskFailed',
  'TaskEvicted',
  'OwnershipAcquired',
];

type Transition = { target?: TaskStatus; actions: 'apply' };

/**
 * A status's transitions: the lifecycle moves from LIFECYCLE; every other event is handled by
 * the root and applied without changing state. No `after` delays: timers are data
 * (assignment deadlines, lastSeenAt) and expire through commands that carry `now`.
 */
function transitionsOf(status: TaskStatus): Partial<Record<TaskEventType, Transition>> {
  const moves = LIFECYCLE[status];
  const on: Partial<Record<TaskEventType, Transition>> = {};
  for (const type of Object.keys(moves) as TaskEventType[]) on[type] = { target: moves[type]!, actions: 'apply' };
  return on;
}

const states = Object.fromEntries(TASK_STATUSES.map((s) => [s, { on: transitionsOf(s) }])) as Record<
  TaskStatus,
  { on: Partial<Record<TaskEventType, Transition>> }
>;
const everywhere = Object.fromEntries(TASK_EVENT_TYPES.map((t) => [t, { actions: 'apply' as const }]));

/**
 * The download task machine: its state value is the task's status and its context the
 * TaskState, which is the fold of the task's events. Its one action, `apply`, is the pure
 * context reducer (apply-task-event.ts), which copies only what an event touches.
 */
export const taskMachine = setup({
  types: {
    context: {} as TaskState,
    events: {} as TaskEvent,
    input: {} as { taskId: string } | undefined,
  },
  actions: {
    apply: assign(({ context, event }) => applyTaskEvent(context, event)),
  },
}).createMachine({
  id: 'task',
  // XState's pure transition() builds a throwaway actor per call, which computes an initial
  // context without input: that must be cheap and must not throw (a throw per event costs a
  // stack trace, i.e. most of the event's time).
  context: ({ input }) => initialTaskState(input?.taskId ?? ''),
  initial: 'absent',
  on: everywhere,
  states,
});

export type TaskMachine = typeof taskMachine;
