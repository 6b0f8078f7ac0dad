import type { TaskStatus } from '../../core/task/index.ts';
import type { TaskSummary } from './task-summary.ts';

/** Where a page ends: the last task it listed. The next page starts strictly after it. */
export interface TaskListCursor {
  lastEventAt: number;
  taskId: string;
}

export interface TaskListQuery {
  status?: TaskStatus;
  limit: number;
  after?: TaskListCursor;
}

export interface TaskListPage {
  tasks: TaskSummary[];
  /** Tasks that match the filter, on every page together. */
  total: number;
  /** Set when more tasks follow this page. */
  next?: TaskListCursor;
}

/**
 * Most recently updated first, then by task id: a total order (task ids are unique), so a
 * cursor names one place in it and paging neither repeats nor skips a task that did not change
 * meanwhile. A task updated while a client pages moves to the front: it is not listed twice,
 * but a later page cannot show it if it had not been listed yet.
 */
export function compareListed(a: TaskListCursor, b: TaskListCursor): number {
  return b.lastEventAt - a.lastEventAt || (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0);
}

/**
 * One page of `summaries`: filter, order, cut after the cursor. Sorts what matches on every
 * call; the read model's cap (thousands of tasks) keeps that to a millisecond or so.
 */
export function listPage(summaries: readonly Readonly<TaskSummary>[], q: TaskListQuery): TaskListPage {
  const matching = q.status === undefined ? [...summaries] : summaries.filter((s) => s.status === q.status);
  const after = q.after;
  const rest = after ? matching.filter((s) => compareListed(s, after) > 0) : matching;
  rest.sort(compareListed);
  const tasks = rest.slice(0, q.limit).map((s) => ({ ...s }));
  const last = tasks.at(-1);
  return { tasks, total: matching.length, ...(rest.length > q.limit && last ? { next: { lastEventAt: last.lastEventAt, taskId: last.taskId } } : {}) };
}

/** The cursor as the API hands it out: opaque to clients (base64url), so its form may change. */
export function encodeCursor(c: TaskListCursor): string {
  return Buffer.from(`${c.lastEventAt}/${c.taskId}`).toString('base64url');
}

/** The cursor `encodeCursor` made, or undefined for anything else. */
export function decodeCursor(text: string): TaskListCursor | undefined {
  const m = /^(\d{1,16})\/([A-Za-z0-9._:-]{1,200})$/.exec(Buffer.from(text, 'base64url').toString());
  if (!m) return undefined;
  const cursor = { lastEventAt: Number(m[1]), taskId: m[2]! };
  // Only the exact text handed out: base64url decoding skips stray characters.
  return Number.isSafeInteger(cursor.lastEventAt) && encodeCursor(cursor) === text ? cursor : undefined;
}
