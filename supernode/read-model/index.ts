export { Deduplicator, type Verdict } from './deduplicator.ts';
export { DEFAULT_MAX_TASKS, TaskReadModel, type TaskReadModelOptions } from './task-read-model.ts';
export { followTaskFeed, type TaskFeed, type TaskFeedOptions } from './task-feed.ts';
export { compareListed, decodeCursor, encodeCursor, listPage, type TaskListCursor, type TaskListPage, type TaskListQuery } from './task-list-page.ts';
export { emptySummary, foldSummary, listedUrl, type SummaryState, type TaskSummary } from './task-summary.ts';
