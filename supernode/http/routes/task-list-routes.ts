import { z } from 'zod';
import { TaskView } from '../../../core/wire/peer-api.ts';
import { decodeCursor, encodeCursor, type TaskReadModel, type TaskSummary } from '../../read-model/index.ts';
import { problemResponses } from '../../../edge/http/problem-responses.ts';
import type { App } from '../server.ts';

const TaskStatus = TaskView.shape.status;

export const TaskListQuery = z.object({
  status: TaskStatus.optional().describe('Only tasks in this status.'),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Tasks per page, 1 to 1000 (default 100).'),
  cursor: z.string().max(400).refine((c) => decodeCursor(c) !== undefined, 'not a cursor this API handed out').optional()
    .describe('`next` of the previous page, with the same filter.'),
});

export const TaskListItem = z.object({
  taskId: z.string(),
  status: TaskStatus,
  url: z.string().nullable().describe('Scheme, host, port and path of the URL: never its credentials or query.'),
  pieceCount: z.number().int().nonnegative().nullable(),
  seededCount: z.number().int().nonnegative(),
  peers: z.number().int().nonnegative().describe('Peers still fetching or serving.'),
  version: z.number().int().nonnegative().describe('The task stream\'s version the summary is at.'),
  updatedAt: z.iso.datetime().describe('Time of the task\'s last event.'),
});

export const TaskList = z.object({
  tasks: z.array(TaskListItem),
  total: z.number().int().nonnegative().describe('Tasks that match the filter, all pages together.'),
  next: z.string().optional().describe('Cursor of the next page; absent on the last page.'),
});
export type TaskList = z.infer<typeof TaskList>;

/**
 * GET /api/v1/tasks: the task list, answered by any replica from its own read model
 * (supernode/read-model), not by the tasks' owners: listing never touches an actor or the store.
 */
export function registerTaskListRoutes(app: App, model: TaskReadModel): void {
  app.get('/api/v1/tasks', {
    schema: {
      summary: 'List tasks, most recently updated first',
      description:
        'Summaries of the cluster\'s tasks, ordered by their last event (newest first), then by task id. ' +
        'Eventually consistent: the list is fed by events after they are committed and published, so a task ' +
        'registered a moment ago may be missing or behind for a short while, and a replica that has just ' +
        'started fills its list as it reads the event history. GET /api/v1/tasks/{taskId} is the live view. ' +
        `At most ${model.maxTasks} tasks are kept: beyond that, the least recently updated are left out. ` +
        'Page with `next`; a task updated while you page moves to the front of the list.',
      security: [{ bearer: [] }],
      querystring: TaskListQuery,
      response: { 200: TaskList, ...problemResponses(400, 401, 503) },
    },
  }, async (req): Promise<TaskList> => {
    const { status, limit, cursor } = req.query;
    const page = model.page({ status, limit, after: cursor === undefined ? undefined : decodeCursor(cursor) });
    return { tasks: page.tasks.map(listItem), total: page.total, ...(page.next ? { next: encodeCursor(page.next) } : {}) };
  });
}

function listItem(s: TaskSummary): z.infer<typeof TaskListItem> {
  return {
    taskId: s.taskId,
    status: s.status,
    url: s.url,
    pieceCount: s.pieceCount,
    seededCount: s.seededCount,
    peers: s.peers,
    version: s.version,
    updatedAt: new Date(s.lastEventAt).toISOString(),
  };
}
