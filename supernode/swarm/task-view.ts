import type { TaskState } from '../../core/task/task-state.ts';
import type { TaskView } from '../../core/wire/peer-api.ts';

export type TaskViewWithHash = TaskView & { stateHash: string };

/** The public summary of a task (what GET /api/v1/tasks/:id and registration answer). */
export function taskView(state: TaskState): TaskView {
  return {
    taskId: state.taskId,
    status: state.status,
    url: state.url,
    contentLength: state.contentLength,
    pieceSize: state.pieceSize,
    pieceCount: state.pieceCount,
    seededCount: state.seededCount,
    peers: Object.keys(state.peers).length,
    version: state.version,
    failure: state.failure,
  };
}
