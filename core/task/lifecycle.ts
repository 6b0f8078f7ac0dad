import type { TaskEventType } from '../events/index.ts';
import type { TaskStatus } from './task-state.ts';

/**
 * The task's lifecycle: which events move it from one status to another. This one table is
 * both the task machine's states (task-machine.ts builds its `states` from it) and the status
 * the context reducer writes, so the machine's state value and `context.status` cannot drift.
 *
 * An event that is not listed for a status does not change the status but is still applied to
 * the context: evolve is total, because a stored event is a fact, applied as it was decided.
 * decide() is where an event that makes no sense in a status is refused.
 */
export const LIFECYCLE: Readonly<Record<TaskStatus, Partial<Record<TaskEventType, TaskStatus>>>> = {
  absent: { TaskCreated: 'created', TaskFailed: 'failed', TaskEvicted: 'evicted' },
  created: { SourceProbed: 'seeding', TaskFailed: 'failed', TaskEvicted: 'evicted' },
  seeding: { TaskSucceeded: 'seeded', TaskFailed: 'failed', TaskEvicted: 'evicted' },
  seeded: { TaskFailed: 'failed', TaskEvicted: 'evicted' },
  failed: { TaskEvicted: 'evicted' },
  // An evicted task's stream continues when the same URL is requested again.
  evicted: { TaskCreated: 'created' },
};

export const TASK_STATUSES = Object.keys(LIFECYCLE) as TaskStatus[];

export function nextStatus(status: TaskStatus, type: TaskEventType): TaskStatus {
  return LIFECYCLE[status][type] ?? status;
}
